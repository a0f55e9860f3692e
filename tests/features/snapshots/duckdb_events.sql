WITH "base_0" AS (
  SELECT
    *,
    "ts" AS "__ts",
    EPOCH_US("ts") AS "__t",
    0 AS "__pt",
    "id" AS "__tie",
    TRUE AS "__is_event"
  FROM "events"
), "base_1" AS (
  SELECT
    *,
    HOUR(ts) <= CAST(6 AS BIGINT) AS "night"
  FROM "base_0"
), "base_flags" AS (
  SELECT
    *,
    COALESCE((
      "__is_event" AND (
        amount > CAST(100 AS BIGINT)
      )
    ), FALSE) AS "__f0"
  FROM "base_1"
), "ranked" AS (
  SELECT
    *,
    ROW_NUMBER() OVER (PARTITION BY "card" ORDER BY __t, __tie) AS "__rn",
    COUNT(*) OVER (
      PARTITION BY "card"
      ORDER BY __t
      RANGE BETWEEN UNBOUNDED PRECEDING AND 86400000000 PRECEDING
    ) AS "__upto_86400000000",
    COUNT(*) OVER (
      PARTITION BY "card"
      ORDER BY __t
      RANGE BETWEEN UNBOUNDED PRECEDING AND 604800000000 PRECEDING
    ) AS "__upto_604800000000",
    COUNT(*) OVER (
      PARTITION BY "card"
      ORDER BY __t
      RANGE BETWEEN UNBOUNDED PRECEDING AND 691200000000 PRECEDING
    ) AS "__upto_691200000000",
    COUNT(*) OVER (
      PARTITION BY "card"
      ORDER BY __t
      RANGE BETWEEN UNBOUNDED PRECEDING AND 2592000000000 PRECEDING
    ) AS "__upto_2592000000000",
    SUM(CAST("__f0" AS INT)) OVER (
      PARTITION BY "card"
      ORDER BY __t, __tie
      ROWS BETWEEN UNBOUNDED PRECEDING AND CURRENT ROW
    ) AS "__c0"
  FROM "base_flags"
), "bounded_hi" AS (
  SELECT
    *,
    "__rn" AS "__hi0",
    "__upto_86400000000" AS "__hi1",
    "__rn" AS "__hi2",
    "__rn" AS "__hi3",
    "__rn" AS "__hi4",
    "__rn" AS "__hi5",
    "__rn" AS "__hi6"
  FROM "ranked"
), "bounded" AS (
  SELECT
    "b".*,
    "b"."__upto_86400000000" AS "__lo0",
    "b"."__upto_691200000000" AS "__lo1",
    "b"."__upto_604800000000" AS "__lo2",
    GREATEST("b"."__hi3" - 3, 0) AS "__lo3",
    "b"."__upto_2592000000000" AS "__lo4",
    CASE WHEN COALESCE("h5"."__c0", 0) - 5 + 1 <= 1 THEN 0 ELSE "p5"."__rn" - 1 END AS "__lo5",
    "b"."__upto_86400000000" AS "__lo6"
  FROM "bounded_hi" AS "b"
  LEFT JOIN "ranked" AS "h5"
    ON "h5"."card" IS NOT DISTINCT FROM "b"."card" AND "h5"."__rn" = "b"."__hi5"
  LEFT JOIN "ranked" AS "p5"
    ON "p5"."card" IS NOT DISTINCT FROM "b"."card"
    AND "p5"."__f0"
    AND "p5"."__c0" = COALESCE("h5"."__c0", 0) - 5 + 1
), "aggregated" AS (
  SELECT
    "card",
    "__ts" AS "ts",
    "__tie",
    "__rn",
    "__is_event",
    COALESCE(
      COUNT(*) OVER (
        PARTITION BY "card"
        ORDER BY __t, __tie
        ROWS BETWEEN (
          "__rn" - "__lo0" - 1
        ) PRECEDING AND (
          "__rn" - "__hi0"
        ) PRECEDING
      ),
      0
    ) AS "__a0",
    AVG("amount") OVER (
      PARTITION BY "card"
      ORDER BY __t, __tie
      ROWS BETWEEN (
        "__rn" - "__lo1" - 1
      ) PRECEDING AND (
        "__rn" - "__hi1"
      ) PRECEDING
    ) AS "__a1",
    STDDEV_SAMP("amount") OVER (
      PARTITION BY "card"
      ORDER BY __t, __tie
      ROWS BETWEEN (
        "__rn" - "__lo2" - 1
      ) PRECEDING AND (
        "__rn" - "__hi2"
      ) PRECEDING
    ) AS "__a2",
    ARG_MAX("amount", "__rn") FILTER(WHERE
      NOT "amount" IS NULL) OVER (
      PARTITION BY "card"
      ORDER BY __t, __tie
      ROWS BETWEEN (
        "__rn" - "__lo3" - 1
      ) PRECEDING AND (
        "__rn" - "__hi3"
      ) PRECEDING
    ) AS "__a3",
    COALESCE(
      COUNT(DISTINCT "amount") OVER (
        PARTITION BY "card"
        ORDER BY __t, __tie
        ROWS BETWEEN (
          "__rn" - "__lo4" - 1
        ) PRECEDING AND (
          "__rn" - "__hi4"
        ) PRECEDING
      ),
      0
    ) AS "__a4",
    COALESCE(
      SUM("amount") FILTER(WHERE
        "__f0") OVER (
        PARTITION BY "card"
        ORDER BY __t, __tie
        ROWS BETWEEN (
          "__rn" - "__lo5" - 1
        ) PRECEDING AND (
          "__rn" - "__hi5"
        ) PRECEDING
      ),
      0
    ) AS "__a5",
    COALESCE(
      SUM("amount") OVER (
        PARTITION BY "card"
        ORDER BY __t, __tie
        ROWS BETWEEN (
          "__rn" - "__lo6" - 1
        ) PRECEDING AND (
          "__rn" - "__hi6"
        ) PRECEDING
      ),
      0
    ) AS "__a6"
  FROM "bounded"
)
SELECT
  "card",
  "ts",
  "__tie",
  "__a0" AS "count_1d",
  "__a1" AS "amount_mean_7d_delay1d",
  "__a2" AS "amount_std_7d",
  "__a3" AS "amount_last_last3",
  "__a4" AS "amount_distinct_30d",
  "__a5" AS "big_last5",
  CASE
    WHEN "__a0" IS NULL OR "__a0" = 0
    THEN CAST(0.0 AS DOUBLE)
    ELSE CAST("__a6" AS DOUBLE) / "__a0"
  END AS "avg_1d"
FROM "aggregated"
ORDER BY
  "card",
  "__rn"
