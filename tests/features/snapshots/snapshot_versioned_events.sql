WITH "base_0" AS (
  SELECT
    *,
    "ts" AS "__ts",
    EPOCH_US("ts") AS "__t",
    0 AS "__pt",
    "id" AS "__tie",
    TRUE AS "__is_event",
    COALESCE(CAST(EPOCH_US("created") AS BIGINT), CAST(-9223372036854775808 AS BIGINT)) AS "__v"
  FROM "events"
), "base_flags" AS (
  SELECT
    *,
    COALESCE((
      "__is_event" AND (
        NOT "tier" IS NULL AND NOT "limit" IS NULL
      )
    ), FALSE) AS "__f0"
  FROM "base_0"
), "ranked" AS (
  SELECT
    *,
    ROW_NUMBER() OVER (PARTITION BY "card" ORDER BY __t, __v, __tie) AS "__rn",
    COUNT(*) OVER (
      PARTITION BY "card"
      ORDER BY __t
      RANGE BETWEEN UNBOUNDED PRECEDING AND 2592000000001 PRECEDING
    ) AS "__upto_2592000000001"
  FROM "base_flags"
), "bounded_hi" AS (
  SELECT
    *,
    "__rn" AS "__hi0",
    "__rn" AS "__hi1"
  FROM "ranked"
), "bounded" AS (
  SELECT
    "b".*,
    "b"."__upto_2592000000001" AS "__lo0",
    "b"."__upto_2592000000001" AS "__lo1"
  FROM "bounded_hi" AS "b"
), "aggregated" AS (
  SELECT
    "card",
    "__ts" AS "ts",
    "__tie",
    "__rn",
    "__is_event",
    STRUCT_EXTRACT(
      ARG_MAX({'v': "tier"}, "__rn") FILTER(WHERE
        "__f0") OVER (
        PARTITION BY "card"
        ORDER BY __t, __v, __tie
        ROWS BETWEEN (
          "__rn" - "__lo0" - 1
        ) PRECEDING AND (
          "__rn" - "__hi0"
        ) PRECEDING
      ),
      'v'
    ) AS "__a0",
    STRUCT_EXTRACT(
      ARG_MAX({'v': "limit"}, "__rn") FILTER(WHERE
        "__f0") OVER (
        PARTITION BY "card"
        ORDER BY __t, __v, __tie
        ROWS BETWEEN (
          "__rn" - "__lo1" - 1
        ) PRECEDING AND (
          "__rn" - "__hi1"
        ) PRECEDING
      ),
      'v'
    ) AS "__a1"
  FROM "bounded"
)
SELECT
  "card",
  "ts",
  "__tie",
  "__a0" AS "tier",
  "__a1" AS "limit"
FROM "aggregated"
ORDER BY
  "card",
  "__rn"
