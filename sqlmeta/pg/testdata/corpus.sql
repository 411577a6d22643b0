SELECT * FROM users
----
SELECT id, name FROM public.users WHERE id = $1
----
select o.id, c.name from Orders o join "Customers" c on c.id = o.customer_id
----
SELECT * FROM shop."Order Items" oi LEFT JOIN shop.products p USING (product_id)
----
SELECT a.x FROM a, b, c WHERE a.id = b.id AND b.id = c.id
----
SELECT * FROM t1 FULL OUTER JOIN t2 ON t1.k = t2.k CROSS JOIN t3
----
SELECT count(*) FROM events WHERE user_id IN (SELECT id FROM users WHERE banned)
----
SELECT name FROM users u WHERE EXISTS (SELECT 1 FROM orders o WHERE o.user_id = u.id)
----
SELECT (SELECT max(total) FROM invoices) AS top, now()
----
SELECT * FROM (SELECT * FROM logs WHERE level = 'error') sub
----
SELECT * FROM users u, LATERAL (SELECT * FROM sessions s WHERE s.user_id = u.id LIMIT 1) last
----
WITH recent AS (SELECT * FROM orders WHERE created_at > now() - interval '1 day') SELECT * FROM recent JOIN users ON users.id = recent.user_id
----
WITH RECURSIVE tree AS (SELECT id, parent_id FROM nodes WHERE parent_id IS NULL UNION ALL SELECT n.id, n.parent_id FROM nodes n JOIN tree t ON n.parent_id = t.id) SELECT * FROM tree
----
WITH moved AS (DELETE FROM queue WHERE done RETURNING *) INSERT INTO archive SELECT * FROM moved
----
SELECT id FROM a UNION SELECT id FROM b EXCEPT SELECT id FROM c
----
SELECT * FROM generate_series(1, 10) g
----
SELECT 1
----
INSERT INTO users (name, email) VALUES ('a', 'a@example.com')
----
INSERT INTO audit.log SELECT * FROM staging.log WHERE ts < now()
----
INSERT INTO counters (k, v) VALUES ('x', 1) ON CONFLICT (k) DO UPDATE SET v = counters.v + 1 RETURNING v
----
UPDATE accounts SET balance = balance - 100 WHERE id = 1
----
UPDATE orders o SET status = 'paid' FROM payments p WHERE p.order_id = o.id
----
UPDATE "MixedCase"."Table" SET x = (SELECT y FROM other WHERE other.id = 1)
----
DELETE FROM sessions WHERE expires_at < now()
----
DELETE FROM orders USING customers WHERE orders.customer_id = customers.id AND customers.deleted
----
MERGE INTO stock s USING deliveries d ON s.item = d.item WHEN MATCHED THEN UPDATE SET qty = s.qty + d.qty WHEN NOT MATCHED THEN INSERT VALUES (d.item, d.qty)
----
CREATE TABLE orders (id serial PRIMARY KEY, user_id int REFERENCES users(id), total numeric)
----
CREATE TABLE IF NOT EXISTS analytics.daily AS SELECT date_trunc('day', ts) d, count(*) FROM events GROUP BY 1
----
SELECT * INTO TEMP snapshot FROM inventory
----
CREATE VIEW active_users AS SELECT * FROM users WHERE active
----
CREATE MATERIALIZED VIEW mv_sales AS SELECT sum(total) FROM sales
----
CREATE INDEX CONCURRENTLY idx_orders_user ON orders (user_id)
----
CREATE SCHEMA reporting
----
DROP TABLE IF EXISTS tmp_a, public.tmp_b CASCADE
----
DROP VIEW "Reports"
----
DROP INDEX idx_orders_user
----
DROP FUNCTION f(int)
----
ALTER TABLE users ADD COLUMN last_login timestamptz
----
ALTER TABLE public.users RENAME TO members
----
TRUNCATE TABLE logs, audit.trail RESTART IDENTITY
----
COPY users FROM STDIN WITH (FORMAT csv)
----
COPY public.orders (id, total) TO STDOUT
----
COPY (SELECT * FROM orders WHERE total > 100) TO STDOUT WITH CSV HEADER
----
BEGIN
----
START TRANSACTION ISOLATION LEVEL SERIALIZABLE
----
COMMIT
----
ROLLBACK
----
SAVEPOINT sp1
----
ROLLBACK TO SAVEPOINT sp1
----
BEGIN; UPDATE accounts SET balance = 0 WHERE id = 2; INSERT INTO ledger VALUES (2, 0); COMMIT;
----
SET search_path TO shop, public
----
SHOW server_version
----
EXPLAIN ANALYZE SELECT * FROM big_table WHERE id = 1
----
SELECT * FROM mydb.myschema.mytable
----
LOCK TABLE accounts IN SHARE MODE
----
VACUUM ANALYZE orders
----
LISTEN channel_name
----
SELECT FROM
