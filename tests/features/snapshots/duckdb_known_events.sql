WITH "points" AS (
  SELECT
    "card",
    "ts" AS "__at",
    "id" AS "__tie",
    ROW_NUMBER() OVER (ORDER BY "card", "ts", "id") AS "__point"
  FROM "events"
)
SELECT
  "p"."card",
  "p"."__at" AS "ts",
  "p"."__tie",
  "f"."count_7d_delay7d",
  "f"."fraud_rate_7d"
FROM "points" AS "p"
JOIN (
  SELECT
    "p"."__point",
    COUNT("e"."__t") FILTER(WHERE
      "e"."__t" > "p"."__t" - 1209600000000 AND "e"."__t" <= "p"."__t" - 604800000000) AS "count_7d_delay7d",
    CASE
      WHEN COUNT("e"."__t") FILTER(WHERE
        "e"."__t" > "p"."__t" - 1209600000000 AND "e"."__t" <= "p"."__t" - 604800000000) IS NULL
      OR COUNT("e"."__t") FILTER(WHERE
        "e"."__t" > "p"."__t" - 1209600000000 AND "e"."__t" <= "p"."__t" - 604800000000) = 0
      THEN CAST(0.0 AS DOUBLE)
      ELSE CAST(COALESCE(
        SUM("e"."fraud") FILTER(WHERE
          "e"."__t" > "p"."__t" - 1209600000000 AND "e"."__t" <= "p"."__t" - 604800000000),
        0
      ) AS DOUBLE) / COUNT("e"."__t") FILTER(WHERE
        "e"."__t" > "p"."__t" - 1209600000000 AND "e"."__t" <= "p"."__t" - 604800000000)
    END AS "fraud_rate_7d"
  FROM (
    SELECT
      *,
      EPOCH_US("__at") AS "__t"
    FROM "points"
  ) AS "p"
  LEFT JOIN (
    SELECT
      *,
      EPOCH_US("ts") AS "__t",
      EPOCH_US("known") AS "__k",
      "id" AS "__tie"
    FROM "events"
  ) AS "e"
    ON "e"."card" = "p"."card"
    AND "e"."__t" > "p"."__t" - 1209600000000
    AND "e"."__t" <= "p"."__t" - 604800000000
    AND "e"."__k" <= "p"."__t"
  GROUP BY
    "p"."__point"
  ORDER BY
    "p"."__point"
) AS "f"
  ON "f"."__point" = "p"."__point"
ORDER BY
  "p"."__point"
