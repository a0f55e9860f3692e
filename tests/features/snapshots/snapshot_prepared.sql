SELECT
  *
FROM (
  SELECT
    *,
    COALESCE(
      COUNT(*) FILTER(WHERE
        "__f0" AND "__k" <= 1700000000000000 AND "__t" <= 1700000000000000) OVER (
        PARTITION BY "card"
        ORDER BY "__t" DESC, "__v" DESC, "__tie_order" DESC
        ROWS BETWEEN UNBOUNDED PRECEDING AND 1 PRECEDING
      ),
      0
    ) AS "__after0"
  FROM (
    SELECT
      "card",
      EPOCH_US("ts") AS "__t",
      CAST("id" AS TEXT) AS "__tie",
      "id" AS "__tie_order",
      COALESCE(CAST(EPOCH_US("created") AS BIGINT), CAST(-9223372036854775808 AS BIGINT)) AS "__v",
      EPOCH_US("ts") AS "__k",
      "tier",
      "limit",
      COALESCE((
        NOT "tier" IS NULL AND NOT "limit" IS NULL
      ), FALSE) AS "__f0"
    FROM (
      SELECT
        *
      FROM "events"
    ) AS b
  ) AS p
) AS r
WHERE
  "__k" > 1700000000000000 OR (
    "__f0" AND "__after0" < 1
  )
ORDER BY
  "card",
  "__t",
  "__v",
  "__tie_order"
