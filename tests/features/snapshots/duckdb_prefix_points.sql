WITH "run0" AS (
  SELECT
    "card",
    "__t",
    ROW_NUMBER() OVER (
      PARTITION BY "card"
      ORDER BY "__t", "id"
      ROWS BETWEEN UNBOUNDED PRECEDING AND CURRENT ROW
    ) AS "__n",
    COUNT(*) OVER (
      PARTITION BY "card"
      ORDER BY "__t", "id"
      ROWS BETWEEN UNBOUNDED PRECEDING AND CURRENT ROW
    ) AS "__c",
    0.0 AS "__s"
  FROM (
    SELECT
      *,
      EPOCH_US("ts") AS "__t"
    FROM (
      SELECT
        *,
        HOUR(ts) <= 6 AS "night"
      FROM (
        SELECT
          *
        FROM "events"
      ) AS "d"
    ) AS "b"
  ) AS "e"
), "tot0" AS (
  SELECT
    *
  FROM "run0"
  QUALIFY
    ROW_NUMBER() OVER (PARTITION BY "card", "__t" ORDER BY "__n" DESC) = 1
), "run1" AS (
  SELECT
    "card",
    "__t",
    ROW_NUMBER() OVER (
      PARTITION BY "card"
      ORDER BY "__t", "id"
      ROWS BETWEEN UNBOUNDED PRECEDING AND CURRENT ROW
    ) AS "__n",
    COUNT("amount") OVER (
      PARTITION BY "card"
      ORDER BY "__t", "id"
      ROWS BETWEEN UNBOUNDED PRECEDING AND CURRENT ROW
    ) AS "__c",
    COALESCE(
      SUM(CAST("amount" AS DOUBLE)) OVER (
        PARTITION BY "card"
        ORDER BY "__t", "id"
        ROWS BETWEEN UNBOUNDED PRECEDING AND CURRENT ROW
      ),
      0.0
    ) AS "__s"
  FROM (
    SELECT
      *,
      EPOCH_US("ts") AS "__t"
    FROM (
      SELECT
        *,
        HOUR(ts) <= 6 AS "night"
      FROM (
        SELECT
          *
        FROM "events"
      ) AS "d"
    ) AS "b"
  ) AS "e"
), "tot1" AS (
  SELECT
    *
  FROM "run1"
  QUALIFY
    ROW_NUMBER() OVER (PARTITION BY "card", "__t" ORDER BY "__n" DESC) = 1
), "run2" AS (
  SELECT
    "card",
    "__t",
    ROW_NUMBER() OVER (
      PARTITION BY "card"
      ORDER BY "__t", "id"
      ROWS BETWEEN UNBOUNDED PRECEDING AND CURRENT ROW
    ) AS "__n",
    COUNT("amount") OVER (
      PARTITION BY "card"
      ORDER BY "__t", "id"
      ROWS BETWEEN UNBOUNDED PRECEDING AND CURRENT ROW
    ) AS "__c",
    COALESCE(
      SUM(CAST("amount" AS DOUBLE)) OVER (
        PARTITION BY "card"
        ORDER BY "__t", "id"
        ROWS BETWEEN UNBOUNDED PRECEDING AND CURRENT ROW
      ),
      0.0
    ) AS "__s"
  FROM (
    SELECT
      *,
      EPOCH_US("ts") AS "__t"
    FROM (
      SELECT
        *,
        HOUR(ts) <= 6 AS "night"
      FROM (
        SELECT
          *
        FROM "events"
      ) AS "d"
      WHERE
        COALESCE((
          amount > 100
        ), FALSE)
    ) AS "b"
  ) AS "e"
), "tot2" AS (
  SELECT
    *
  FROM "run2"
  QUALIFY
    ROW_NUMBER() OVER (PARTITION BY "card", "__t" ORDER BY "__n" DESC) = 1
)
SELECT
  "p"."__point",
  (
    COALESCE("a0"."__c", 0) - COALESCE("a1"."__c", 0)
  ) AS "count_1d",
  CASE
    WHEN (
      COALESCE("a2"."__c", 0) - COALESCE("a3"."__c", 0)
    ) = 0
    THEN NULL
    ELSE (
      COALESCE("a2"."__s", 0) - COALESCE("a3"."__s", 0)
    ) / (
      COALESCE("a2"."__c", 0) - COALESCE("a3"."__c", 0)
    )
  END AS "amount_mean_7d_delay1d",
  (
    COALESCE("a4"."__s", 0) - COALESCE("a5"."__s", 0)
  ) AS "big_last5",
  (
    COALESCE("a6"."__s", 0) - COALESCE("a2"."__s", 0)
  ) AS "__avg_1d__num",
  (
    COALESCE("a0"."__c", 0) - COALESCE("a1"."__c", 0)
  ) AS "__avg_1d__den"
FROM (
  SELECT
    *,
    EPOCH_US("__at") AS "__t"
  FROM "points"
) AS "p"
ASOF LEFT JOIN "tot0" AS "a0"
  ON "p"."card" = "a0"."card" AND "p"."__t" - 0 >= "a0"."__t"
ASOF LEFT JOIN "tot0" AS "a1"
  ON "p"."card" = "a1"."card" AND "p"."__t" - 86400000000 >= "a1"."__t"
ASOF LEFT JOIN "tot1" AS "a2"
  ON "p"."card" = "a2"."card" AND "p"."__t" - 86400000000 >= "a2"."__t"
ASOF LEFT JOIN "tot1" AS "a3"
  ON "p"."card" = "a3"."card" AND "p"."__t" - 691200000000 >= "a3"."__t"
ASOF LEFT JOIN "tot2" AS "a4"
  ON "p"."card" = "a4"."card" AND "p"."__t" - 0 >= "a4"."__t"
LEFT JOIN "run2" AS "a5"
  ON "p"."card" = "a5"."card" AND "a5"."__n" = "a4"."__n" - 5
ASOF LEFT JOIN "tot1" AS "a6"
  ON "p"."card" = "a6"."card" AND "p"."__t" - 0 >= "a6"."__t"
ORDER BY
  "p"."__point"
