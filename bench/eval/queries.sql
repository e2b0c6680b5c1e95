-- The SQL twins of bench/eval/bench.seg, written as a SQL user would write
-- them. Each returns (count, sum of ids) of the friends selected; blocked
-- friends are never selected (seg excludes them from every segment).
-- A missing value fails every comparison in seg, as NULL does here; the
-- queries avoid NOT over a comparison, where the two differ.

-- segment: vip
SELECT count(*), sum(f.id) FROM friends f WHERE f.blocked = 0 AND (
  f.member_rank >= 2 OR f.id IN (SELECT id FROM tags WHERE tag = 'VIP'))

-- segment: kanto
SELECT count(*), sum(f.id) FROM friends f WHERE f.blocked = 0 AND
  f.prefecture IN ('東京都', '神奈川県', '埼玉県', '千葉県')

-- segment: gold_kanto
SELECT count(*), sum(f.id) FROM friends f WHERE f.blocked = 0 AND f.member_rank >= 2 AND
  f.prefecture IN ('東京都', '神奈川県', '埼玉県', '千葉県') AND
  f.id NOT IN (SELECT id FROM tags WHERE tag = '配信停止')

-- segment: points_band
SELECT count(*), sum(f.id) FROM friends f WHERE f.blocked = 0 AND f.points BETWEEN 1000 AND 5000

-- segment: recent_order
SELECT count(*), sum(f.id) FROM friends f WHERE f.blocked = 0 AND f.last_order_at > {now} - 30 * 86400

-- segment: cart_left
SELECT count(*), sum(f.id) FROM friends f WHERE f.blocked = 0 AND
  f.id IN (SELECT friend FROM ev_cart_add WHERE time > {now} - 86400 AND time <= {now}) AND
  f.id NOT IN (SELECT friend FROM ev_purchase WHERE time > {now} - 86400 AND time <= {now})

-- segment: lapsed
SELECT count(*), sum(f.id) FROM friends f WHERE f.blocked = 0 AND
  f.id IN (SELECT friend FROM ev_purchase WHERE time > {now} - 365 * 86400 AND time <= {now}) AND
  f.id NOT IN (SELECT friend FROM ev_purchase WHERE time > {now} - 90 * 86400 AND time <= {now})

-- segment: skincare_fans
SELECT count(*), sum(f.id) FROM friends f WHERE f.blocked = 0 AND (
  f.id IN (SELECT id FROM tags WHERE tag = '興味:スキンケア') OR
  f.id IN (SELECT friend FROM ev_view WHERE category = 'skincare' AND time > {now} - 30 * 86400 AND time <= {now}
           GROUP BY friend HAVING count(*) >= 3))

-- segment: big_spenders
SELECT count(*), sum(f.id) FROM friends f WHERE f.blocked = 0 AND
  f.id IN (SELECT friend FROM ev_purchase WHERE time > {now} - 90 * 86400 AND time <= {now}
           GROUP BY friend HAVING sum(price) >= 30000)

-- segment: serum_lookers
SELECT count(*), sum(f.id) FROM friends f WHERE f.blocked = 0 AND
  f.id IN (SELECT friend FROM ev_view WHERE product LIKE '美容液%' AND time > {now} - 14 * 86400 AND time <= {now})

-- segment: happy_reviewers
SELECT count(*), sum(f.id) FROM friends f WHERE f.blocked = 0 AND
  f.id IN (SELECT friend FROM ev_review WHERE stars >= 4 AND time > {now} - 180 * 86400 AND time <= {now}
           GROUP BY friend HAVING count(*) >= 2)

-- segment: birthday_month
-- sqlite:
SELECT count(*), sum(f.id) FROM friends f WHERE f.blocked = 0 AND
  strftime('%m', f.birthday * 86400, 'unixepoch') = strftime('%m', {today} * 86400, 'unixepoch')
-- duckdb:
SELECT count(*), sum(f.id) FROM friends f WHERE f.blocked = 0 AND month(f.birthday) = month(DATE {today_date})

-- segment: mixed
-- sqlite:
SELECT count(*), sum(f.id) FROM friends f WHERE f.blocked = 0 AND (
  (f.member_rank >= 1 AND f.points > 500 AND f.id NOT IN (SELECT id FROM tags WHERE tag = '配信停止')) OR
  (f.id IN (SELECT friend FROM ev_purchase WHERE category = 'makeup' AND time > {now} - 60 * 86400 AND time <= {now}) AND
   (CAST(strftime('%Y%m%d', {today} * 86400, 'unixepoch') AS INTEGER) -
    CAST(strftime('%Y%m%d', f.birthday * 86400, 'unixepoch') AS INTEGER)) / 10000 BETWEEN 20 AND 34) OR
  (f.newsletter = 1 AND f.skin_type IN (0, 3) AND f.followed_at <= {now} - 90 * 86400))
-- duckdb:
SELECT count(*), sum(f.id) FROM friends f WHERE f.blocked = 0 AND (
  (f.member_rank >= 1 AND f.points > 500 AND f.id NOT IN (SELECT id FROM tags WHERE tag = '配信停止')) OR
  (f.id IN (SELECT friend FROM ev_purchase WHERE category = 'makeup' AND time > {now} - 60 * 86400 AND time <= {now}) AND
   (CAST(strftime(DATE {today_date}, '%Y%m%d') AS INTEGER) -
    CAST(strftime(f.birthday, '%Y%m%d') AS INTEGER)) // 10000 BETWEEN 20 AND 34) OR
  (f.newsletter = 1 AND f.skin_type IN (0, 3) AND f.followed_at <= {now} - 90 * 86400))
