WITH "ev_0" AS (
  SELECT
    *,
    EPOCH_US("ts") AS "__t",
    EPOCH_US("known") AS "__k",
    "id" AS "__tie",
    COALESCE(CAST(EPOCH_US("created") AS BIGINT), CAST(-9223372036854775808 AS BIGINT)) AS "__v"
  FROM "events"
), "ev" AS (
  SELECT
    *
  FROM "ev_0"
), "pt" AS (
  SELECT
    "p".*,
    EPOCH_US("p"."__at") AS "__t"
  FROM "points" AS "p"
), "by_time" AS (
  SELECT
    "p"."__point",
    STRUCT_EXTRACT(
      ARG_MAX({'v': "e"."tier"}, {'t': "e"."__t", 'v': "e"."__v", 'tie': "e"."__tie"}) FILTER(WHERE
        "e"."__t" > "p"."__t" - 2592000000000 AND "e"."__t" <= "p"."__t" - 0),
      'v'
    ) AS "__a0"
  FROM "pt" AS "p"
  JOIN "ev" AS "e"
    ON "e"."card" IS NOT DISTINCT FROM "p"."card"
    AND "e"."__t" > "p"."__t" - 2592000000000
    AND "e"."__t" <= "p"."__t" - 0
    AND "e"."__k" <= "p"."__t"
  GROUP BY
    "p"."__point"
)
SELECT
  "p"."__point",
  "t"."__a0" AS "tier"
FROM "pt" AS "p"
LEFT JOIN "by_time" AS "t"
  ON "t"."__point" = "p"."__point"
ORDER BY
  "p"."__point"
