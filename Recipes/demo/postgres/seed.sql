INSERT INTO bookmarks (url, title) VALUES
    ('https://www.postgresql.org/', 'PostgreSQL'),
    ('https://mariadb.org/', 'MariaDB'),
    ('https://www.debian.org/', 'Debian');
