-- Issue 17/18. product_pictures: the picture HQ uploads for a product (the agent's catalogue, the
-- consumer's verification page), normalised on upload (at most 800 px a side, JPEG) and kept in
-- the database so that every server instance serves it and a backup holds it. products.image_url
-- then points at it with the picture's ETag, so a new picture is a new address for caches.
CREATE TABLE product_pictures (
    product_id BIGINT PRIMARY KEY NOT NULL REFERENCES products (id),
    content_type TEXT NOT NULL,
    bytes BLOB NOT NULL,
    etag TEXT NOT NULL,
    width INTEGER NOT NULL,
    height INTEGER NOT NULL,
    uploaded_by BIGINT REFERENCES users (id),
    uploaded_at TIMESTAMP NOT NULL
);
