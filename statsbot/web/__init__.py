"""Files a homepage includes: statsbot.js (`statsbot badges --format js`)."""
