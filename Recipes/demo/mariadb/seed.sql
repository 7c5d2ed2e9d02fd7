INSERT INTO visits (path) VALUES ('/'), ('/bookmarks'), ('/about');
