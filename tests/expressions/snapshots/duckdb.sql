-- integer arithmetic
i + j
  => i + j
i - j
  => i - j
i * j
  => i * j
-i
  => -i
abs(i)
  => ABS(i)
i * 3 - 7
  => i * CAST(3 AS BIGINT) - CAST(7 AS BIGINT)
-- division
i / j
  => i / j
f / g
  => f / g
i // j
  => i // j
f // g
  => f // g
i % j
  => i % j
f % g
  => f % g
i / 0
  => i / CAST(0 AS BIGINT)
f / 0.0
  => f / CAST(0.0 AS DOUBLE)
CASE WHEN j <> 0 THEN i // j END
  => CASE WHEN j <> CAST(0 AS BIGINT) THEN i // j END
coalesce(i, 10 // j)
  => COALESCE(i, CAST(10 AS BIGINT) // j)
-- casts
CAST(f AS BIGINT)
  => CAST(f AS BIGINT)
TRY_CAST(f AS BIGINT)
  => TRY_CAST(f AS BIGINT)
CAST(i AS DOUBLE)
  => CAST(i AS DOUBLE)
CAST(b AS INTEGER)
  => CAST(b AS BIGINT)
CAST(i AS BOOLEAN)
  => CAST(i AS BOOLEAN)
CAST(f AS BOOLEAN)
  => CAST(f AS BOOLEAN)
CAST(i AS VARCHAR)
  => CAST(i AS TEXT)
CAST(b AS VARCHAR)
  => CAST(b AS TEXT)
CAST(d AS VARCHAR)
  => CAST(d AS TEXT)
CAST(t AS DATE)
  => CAST(t AS DATE)
CAST(d AS TIMESTAMP)
  => CAST(d AS TIMESTAMP)
-- comparisons
f = g
  => f = g
f < g
  => f < g
f >= g
  => f >= g
i <> j
  => i <> j
s < u
  => s < u
t > w
  => t > w
d <= e
  => d <= e
d < t
  => d < t
f IS DISTINCT FROM g
  => f IS DISTINCT FROM g
i IS NOT DISTINCT FROM j
  => i IS NOT DISTINCT FROM j
f IN (1.5, 0.0 / 0.0, g)
  => f IN (CAST(1.5 AS DOUBLE), CAST(0.0 AS DOUBLE) / CAST(0.0 AS DOUBLE), g)
i IN (1, NULL)
  => i IN (CAST(1 AS BIGINT), NULL)
f BETWEEN g AND 2.5
  => f BETWEEN g AND CAST(2.5 AS DOUBLE)
t > '2024-03-31'
  => t > '2024-03-31'
d = '2024-03-31'
  => d = '2024-03-31'
-- three-valued logic
b AND c
  => b AND c
b OR c
  => b OR c
NOT b
  => NOT b
b AND i > 0
  => b AND i > CAST(0 AS BIGINT)
b IS NULL
  => b IS NULL
c IS NOT NULL
  => NOT c IS NULL
b IS TRUE
  => b IS TRUE
-- conditionals
CASE WHEN b THEN i WHEN c THEN j ELSE 0 END
  => CASE WHEN b THEN i WHEN c THEN j ELSE CAST(0 AS BIGINT) END
if(b, f, g)
  => CASE WHEN b THEN f ELSE g END
CASE i WHEN 1 THEN 'one' WHEN 2 THEN 'two' END
  => CASE i WHEN CAST(1 AS BIGINT) THEN 'one' WHEN CAST(2 AS BIGINT) THEN 'two' END
coalesce(f, g, 0)
  => COALESCE(f, g, CAST(0 AS BIGINT))
nullif(i, j)
  => NULLIF(i, j)
nullif(f, g)
  => NULLIF(f, g)
greatest(f, g, 1)
  => GREATEST(f, g, CAST(1 AS BIGINT))
least(i, j)
  => LEAST(i, j)
greatest(s, u)
  => GREATEST(s, u)
least(t, w)
  => LEAST(t, w)
-- numbers
sqrt(f)
  => SQRT(f)
ln(f)
  => LN(f)
exp(f)
  => EXP(f)
floor(f)
  => FLOOR(f)
ceil(g)
  => CEIL(g)
sign(f)
  => SIGN(f)
sign(i)
  => SIGN(i)
isnan(f)
  => ISNAN(f)
isinf(g)
  => ISINF(g)
floor(i)
  => FLOOR(i)
-- text
lower(s)
  => LOWER(s)
upper(u)
  => UPPER(u)
length(s)
  => LENGTH(s)
s || u
  => s || u
s LIKE 'a%'
  => s LIKE 'a%'
u ILIKE '%B_'
  => u ILIKE '%B_'
starts_with(s, 'a')
  => STARTS_WITH(s, 'a')
contains(u, 'b')
  => CONTAINS(u, 'b')
regexp_matches(s, '^[ab]+$')
  => REGEXP_MATCHES(s, '^[ab]+$')
s LIKE '%\%'
  => s LIKE '%\%'
-- times
hour(t)
  => HOUR(t)
minute(w)
  => MINUTE(w)
second(t)
  => SECOND(t)
day(t)
  => DAY(t)
dayofmonth(d)
  => DAYOFMONTH(d)
month(w)
  => MONTH(w)
year(d)
  => YEAR(d)
quarter(t)
  => QUARTER(t)
dayofweek(t)
  => DAYOFWEEK(t)
isodow(d)
  => ISODOW(d)
dayofyear(w)
  => DAYOFYEAR(w)
date_trunc('hour', t)
  => DATE_TRUNC('HOUR', t)
date_trunc('week', w)
  => DATE_TRUNC('WEEK', w)
date_trunc('month', d)
  => DATE_TRUNC('MONTH', d)
date_trunc('quarter', t)
  => DATE_TRUNC('QUARTER', t)
date_trunc('year', w)
  => DATE_TRUNC('YEAR', w)
t + INTERVAL 1 DAY
  => t + INTERVAL '1' DAY
w - INTERVAL 90 MINUTE
  => w - INTERVAL '90' MINUTE
d + INTERVAL 36 HOUR
  => d + INTERVAL '36' HOUR
