WITH "ev_0" AS (
  SELECT
    *,
    EPOCH_US("ts") AS "__t",
    EPOCH_US("known") AS "__k",
    "id" AS "__tie"
  FROM "events"
), "ev" AS (
  SELECT
    *
  FROM "ev_0"
), "pt" AS (
  SELECT
    "p"."card",
    "p"."ts" AS "__at",
    "p"."__t",
    "p"."__tie",
    ROW_NUMBER() OVER (ORDER BY "p"."card", "p"."__t", "p"."__tie") AS "__point"
  FROM "ev" AS "p"
), "by_time" AS (
  SELECT
    "p"."__point",
    COUNT("e"."__t") FILTER(WHERE
      "e"."__t" > "p"."__t" - 1209600000000 AND "e"."__t" <= "p"."__t" - 604800000000) AS "__a0",
    SUM("e"."fraud") FILTER(WHERE
      "e"."__t" > "p"."__t" - 1209600000000 AND "e"."__t" <= "p"."__t" - 604800000000) AS "__a1"
  FROM "pt" AS "p"
  JOIN "ev" AS "e"
    ON "e"."card" IS NOT DISTINCT FROM "p"."card"
    AND "e"."__t" > "p"."__t" - 1209600000000
    AND "e"."__t" <= "p"."__t" - 604800000000
    AND "e"."__k" <= "p"."__t"
  GROUP BY
    "p"."__point"
)
SELECT
  "p"."card",
  "p"."__at" AS "ts",
  "p"."__tie",
  COALESCE("t"."__a0", 0) AS "count_7d_delay7d",
  CASE
    WHEN COALESCE("t"."__a0", 0) IS NULL OR COALESCE("t"."__a0", 0) = 0
    THEN CAST(0.0 AS DOUBLE)
    ELSE CAST(COALESCE("t"."__a1", 0) AS DOUBLE) / COALESCE("t"."__a0", 0)
  END AS "fraud_rate_7d"
FROM "pt" AS "p"
LEFT JOIN "by_time" AS "t"
  ON "t"."__point" = "p"."__point"
ORDER BY
  "p"."__point"
