WITH "ev_0" AS (
  SELECT
    *,
    EPOCH_US("ts") AS "__t",
    EPOCH_US("known") AS "__k",
    "id" AS "__tie"
  FROM "events"
), "ev_flags" AS (
  SELECT
    *,
    TRUE AS "__f0",
    COALESCE((
      fraud > CAST(0 AS BIGINT)
    ), FALSE) AS "__f1"
  FROM "ev_0"
), "ev" AS (
  SELECT
    *,
    COUNT(*) FILTER(WHERE
      "__f0") OVER (
      PARTITION BY "card"
      ORDER BY "__t" ASC, "__tie" ASC
      ROWS BETWEEN UNBOUNDED PRECEDING AND CURRENT ROW
    ) AS "__c0",
    COUNT(*) FILTER(WHERE
      "__f1") OVER (
      PARTITION BY "card"
      ORDER BY "__t" ASC, "__tie" ASC
      ROWS BETWEEN UNBOUNDED PRECEDING AND CURRENT ROW
    ) AS "__c1"
  FROM "ev_flags"
), "lateness" AS (
  SELECT
    "card",
    GREATEST(MAX("__k" - "__t"), 0) AS "__late"
  FROM "ev"
  GROUP BY
    "card"
), "pt" AS (
  SELECT
    "p"."card",
    "p"."ts" AS "__at",
    "p"."__t",
    "p"."__tie",
    "p"."__c0",
    "p"."__c1",
    ROW_NUMBER() OVER (ORDER BY "p"."card", "p"."__t", "p"."__tie") AS "__point",
    COALESCE("l"."__late", 0) AS "__late"
  FROM "ev" AS "p"
  LEFT JOIN "lateness" AS "l"
    ON "l"."card" IS NOT DISTINCT FROM "p"."card"
), "by_time" AS (
  SELECT
    "p"."__point",
    SUM("e"."fraud") FILTER(WHERE
      "e"."__t" > "p"."__t" - 2592000000000
      AND "e"."__t" <= "p"."__t" - 0
      AND (
        "e"."__t" < "p"."__t" OR "e"."__tie" <= "p"."__tie"
      )) AS "__a3"
  FROM "pt" AS "p"
  JOIN "ev" AS "e"
    ON "e"."card" IS NOT DISTINCT FROM "p"."card"
    AND "e"."__t" > "p"."__t" - 2592000000000
    AND "e"."__t" <= "p"."__t" - 0
    AND "e"."__k" <= "p"."__t"
  GROUP BY
    "p"."__point"
), "steps" AS (
  SELECT
    "card",
    "__t",
    MAX("__c0") AS "__c0",
    MAX("__c1") AS "__c1"
  FROM "ev"
  GROUP BY
    "card",
    "__t"
), "bounds" AS (
  SELECT
    "p"."__point",
    "p"."card",
    "p"."__t",
    "p"."__c0" AS "__hi0",
    GREATEST(
      CASE WHEN "p"."__late" > 0 THEN COALESCE("s_late"."__c0", 0) ELSE "p"."__c0" END - 3,
      0
    ) AS "__lo0",
    COALESCE("s1"."__c0", 0) AS "__hi1",
    GREATEST(
      CASE
        WHEN "p"."__late" > 86400000000
        THEN COALESCE("s_late"."__c0", 0)
        ELSE COALESCE("s1"."__c0", 0)
      END - 5,
      0
    ) AS "__lo1",
    "p"."__c1" AS "__hi2",
    GREATEST(
      CASE WHEN "p"."__late" > 0 THEN COALESCE("s_late"."__c1", 0) ELSE "p"."__c1" END - 10,
      0
    ) AS "__lo2",
    "p"."__c0" AS "__hi4",
    GREATEST(
      CASE WHEN "p"."__late" > 0 THEN COALESCE("s_late"."__c0", 0) ELSE "p"."__c0" END - 10,
      0
    ) AS "__lo4"
  FROM "pt" AS "p"
  ASOF LEFT JOIN "steps" AS "s_late"
    ON "s_late"."card" IS NOT DISTINCT FROM "p"."card"
    AND "s_late"."__t" <= "p"."__t" - "p"."__late"
  ASOF LEFT JOIN "steps" AS "s1"
    ON "s1"."card" IS NOT DISTINCT FROM "p"."card"
    AND "s1"."__t" <= "p"."__t" - 86400000000
), "pairs" AS (
  SELECT
    "r"."__point",
    0 AS "__j",
    "e".*
  FROM (
    SELECT
      "__point",
      "card",
      "__t" AS "__at_t",
      UNNEST(RANGE("__lo0" + 1, "__hi0" + 1)) AS "__r"
    FROM "bounds"
  ) AS "r"
  JOIN "ev" AS "e"
    ON "e"."card" IS NOT DISTINCT FROM "r"."card"
    AND "e"."__c0" = "r"."__r"
    AND "e"."__f0"
    AND "e"."__k" <= "r"."__at_t"
  QUALIFY
    ROW_NUMBER() OVER (PARTITION BY "r"."__point" ORDER BY "e"."__c0" DESC) <= 3
  UNION ALL
  SELECT
    "r"."__point",
    1 AS "__j",
    "e".*
  FROM (
    SELECT
      "__point",
      "card",
      "__t" AS "__at_t",
      UNNEST(RANGE("__lo1" + 1, "__hi1" + 1)) AS "__r"
    FROM "bounds"
  ) AS "r"
  JOIN "ev" AS "e"
    ON "e"."card" IS NOT DISTINCT FROM "r"."card"
    AND "e"."__c0" = "r"."__r"
    AND "e"."__f0"
    AND "e"."__k" <= "r"."__at_t"
  QUALIFY
    ROW_NUMBER() OVER (PARTITION BY "r"."__point" ORDER BY "e"."__c0" DESC) <= 5
  UNION ALL
  SELECT
    "r"."__point",
    2 AS "__j",
    "e".*
  FROM (
    SELECT
      "__point",
      "card",
      "__t" AS "__at_t",
      UNNEST(RANGE("__lo2" + 1, "__hi2" + 1)) AS "__r"
    FROM "bounds"
  ) AS "r"
  JOIN "ev" AS "e"
    ON "e"."card" IS NOT DISTINCT FROM "r"."card"
    AND "e"."__c1" = "r"."__r"
    AND "e"."__f1"
    AND "e"."__k" <= "r"."__at_t"
  QUALIFY
    ROW_NUMBER() OVER (PARTITION BY "r"."__point" ORDER BY "e"."__c1" DESC) <= 10
  UNION ALL
  SELECT
    "r"."__point",
    4 AS "__j",
    "e".*
  FROM (
    SELECT
      "__point",
      "card",
      "__t" AS "__at_t",
      UNNEST(RANGE("__lo4" + 1, "__hi4" + 1)) AS "__r"
    FROM "bounds"
  ) AS "r"
  JOIN "ev" AS "e"
    ON "e"."card" IS NOT DISTINCT FROM "r"."card"
    AND "e"."__c0" = "r"."__r"
    AND "e"."__f0"
    AND "e"."__k" <= "r"."__at_t"
  QUALIFY
    ROW_NUMBER() OVER (PARTITION BY "r"."__point" ORDER BY "e"."__c0" DESC) <= 10
), "by_count" AS (
  SELECT
    "__point",
    COUNT("pairs"."__t") FILTER(WHERE
      "pairs"."__j" = 0) AS "__a0",
    ARG_MAX("pairs"."fraud", {'t': "pairs"."__t", 'tie': "pairs"."__tie"}) FILTER(WHERE
      "pairs"."__j" = 1 AND NOT "pairs"."fraud" IS NULL) AS "__a1",
    SUM("pairs"."fraud") FILTER(WHERE
      "pairs"."__j" = 2) AS "__a2",
    COUNT("pairs"."__t") FILTER(WHERE
      "pairs"."__j" = 4) AS "__a4"
  FROM "pairs"
  GROUP BY
    "__point"
)
SELECT
  "p"."card",
  "p"."__at" AS "ts",
  "p"."__tie",
  COALESCE("c"."__a0", 0) AS "count_last3",
  "c"."__a1" AS "fraud_last_last5_delay1d",
  COALESCE("c"."__a2", 0) AS "frauds_last10",
  CASE
    WHEN COALESCE("c"."__a4", 0) IS NULL OR COALESCE("c"."__a4", 0) = 0
    THEN CAST(NULL AS DOUBLE)
    ELSE CAST(COALESCE("t"."__a3", 0) AS DOUBLE) / COALESCE("c"."__a4", 0)
  END AS "per_recent"
FROM "pt" AS "p"
LEFT JOIN "by_time" AS "t"
  ON "t"."__point" = "p"."__point"
LEFT JOIN "by_count" AS "c"
  ON "c"."__point" = "p"."__point"
ORDER BY
  "p"."__point"
