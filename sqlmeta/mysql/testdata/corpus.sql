-- One statement per line; "-- db: name" sets the current database for the lines after it.
-- db:
SELECT 1
SELECT * FROM users WHERE id = 42
SELECT option_name, option_value FROM wp_options WHERE autoload = 'yes'
SELECT c FROM sbtest1 WHERE id BETWEEN 10 AND 20 ORDER BY c
SELECT DISTINCT c FROM sbtest1 WHERE id BETWEEN 10 AND 20 ORDER BY c
UPDATE sbtest1 SET k = k + 1 WHERE id = 5
DELETE FROM sbtest1 WHERE id = 7
INSERT INTO sbtest1 (id, k, c, pad) VALUES (7, 5, 'c', 'pad')
-- db: shop
SELECT o.id, c.name FROM orders o JOIN customers c ON c.id = o.customer_id WHERE o.total > 100
SELECT * FROM orders WHERE customer_id IN (SELECT id FROM customers WHERE country = 'NZ')
SELECT name FROM customers c WHERE EXISTS (SELECT 1 FROM archive.orders a WHERE a.customer_id = c.id)
SELECT * FROM orders LEFT JOIN refunds USING (order_id) RIGHT JOIN shop2.payments p ON p.order_id = orders.id
WITH recent AS (SELECT * FROM orders WHERE created_at > NOW() - INTERVAL 1 DAY) SELECT COUNT(*) FROM recent
WITH RECURSIVE tree AS (SELECT id, parent_id FROM categories WHERE parent_id IS NULL UNION ALL SELECT c.id, c.parent_id FROM categories c JOIN tree t ON c.parent_id = t.id) SELECT * FROM tree
SELECT id FROM orders UNION SELECT id FROM archive.orders
SELECT * FROM (SELECT customer_id, SUM(total) s FROM orders GROUP BY customer_id) t WHERE s > 1000
INSERT INTO order_items (order_id, sku, qty) VALUES (1, 'A-1', 2), (1, 'B-2', 1)
INSERT INTO archive.orders SELECT * FROM orders WHERE created_at < '2020-01-01'
INSERT INTO stats (day, n) SELECT DATE(created_at), COUNT(*) FROM orders GROUP BY 1 ON DUPLICATE KEY UPDATE n = VALUES(n)
INSERT IGNORE INTO tags SET name = 'sale'
REPLACE INTO sessions (id, data) VALUES ('abc', '{}')
UPDATE orders SET status = 'shipped' WHERE id = 10
UPDATE orders o JOIN customers c ON c.id = o.customer_id SET o.discount = 5 WHERE c.vip = 1
UPDATE orders o, order_items i SET i.qty = 0, o.total = 0 WHERE i.order_id = o.id AND o.status = 'void'
UPDATE products SET price = price * 1.1 WHERE category_id IN (SELECT id FROM categories WHERE name = 'tools')
DELETE FROM carts WHERE updated_at < NOW() - INTERVAL 30 DAY
DELETE o FROM orders o JOIN customers c ON c.id = o.customer_id WHERE c.deleted = 1
DELETE FROM orders, order_items USING orders INNER JOIN order_items WHERE orders.id = order_items.order_id AND orders.status = 'void'
DELETE FROM logs WHERE id IN (SELECT log_id FROM purge_queue)
CREATE TABLE IF NOT EXISTS audit (id BIGINT PRIMARY KEY AUTO_INCREMENT, msg TEXT, FOREIGN KEY (id) REFERENCES orders(id))
CREATE TABLE orders_copy LIKE orders
CREATE TABLE top_customers AS SELECT customer_id, SUM(total) FROM orders GROUP BY customer_id
CREATE VIEW v_big_orders AS SELECT * FROM orders WHERE total > 1000
CREATE INDEX idx_orders_customer ON orders (customer_id)
CREATE DATABASE reporting
ALTER TABLE orders ADD COLUMN note VARCHAR(255) NULL
DROP TABLE IF EXISTS tmp_import, archive.tmp_old
DROP INDEX idx_orders_customer ON orders
TRUNCATE TABLE carts
RENAME TABLE orders TO orders_old, orders_new TO orders
LOAD DATA LOCAL INFILE '/tmp/rows.csv' INTO TABLE imports FIELDS TERMINATED BY ','
BEGIN
START TRANSACTION READ ONLY
COMMIT
ROLLBACK
SET NAMES utf8mb4
SET autocommit = 0
SHOW TABLES
SHOW CREATE TABLE orders
EXPLAIN SELECT * FROM orders WHERE id = 1
CALL refresh_stats(7)
SELECT * FROM orders FOR UPDATE
SELECT `order`.`id` FROM `shop`.`order` WHERE `order`.`desc` LIKE '%x%'
SELECT Id FROM Customers
USE reporting; SELECT * FROM daily; SELECT * FROM shop.orders
/* app=web */ SELECT 1 FROM DUAL
SELEKT * FROM broken
