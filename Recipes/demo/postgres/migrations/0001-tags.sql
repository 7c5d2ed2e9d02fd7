ALTER TABLE bookmarks ADD COLUMN tags text[] NOT NULL DEFAULT '{}';
