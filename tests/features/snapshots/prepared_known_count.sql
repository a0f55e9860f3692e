SELECT
  *
FROM (
  SELECT
    *,
    COALESCE(
      COUNT(*) FILTER(WHERE
        TRUE AND "__k" <= 1700000000000000 AND "__t" <= 1700000000000000) OVER (
        PARTITION BY "card"
        ORDER BY "__t" DESC, "__tie_order" DESC
        ROWS BETWEEN UNBOUNDED PRECEDING AND 1 PRECEDING
      ),
      0
    ) AS "__after0",
    COALESCE(
      COUNT(*) FILTER(WHERE
        TRUE AND "__k" <= 1700000000000000 AND "__t" <= 1699913600000000) OVER (
        PARTITION BY "card"
        ORDER BY "__t" DESC, "__tie_order" DESC
        ROWS BETWEEN UNBOUNDED PRECEDING AND 1 PRECEDING
      ),
      0
    ) AS "__after1",
    COALESCE(
      COUNT(*) FILTER(WHERE
        "__f0" AND "__k" <= 1700000000000000 AND "__t" <= 1700000000000000) OVER (
        PARTITION BY "card"
        ORDER BY "__t" DESC, "__tie_order" DESC
        ROWS BETWEEN UNBOUNDED PRECEDING AND 1 PRECEDING
      ),
      0
    ) AS "__after2"
  FROM (
    SELECT
      "card",
      EPOCH_US("ts") AS "__t",
      CAST("id" AS TEXT) AS "__tie",
      "id" AS "__tie_order",
      EPOCH_US("known") AS "__k",
      "fraud",
      COALESCE((
        fraud > CAST(0 AS BIGINT)
      ), FALSE) AS "__f0"
    FROM (
      SELECT
        *
      FROM "events"
    ) AS b
  ) AS p
) AS r
WHERE
  "__k" > 1700000000000000
  OR "__t" > 1697408000000000
  OR (
    TRUE AND "__after0" < 10
  )
  OR (
    TRUE AND "__after1" < 5
  )
  OR (
    "__f0" AND "__after2" < 10
  )
ORDER BY
  "card",
  "__t",
  "__tie_order"
