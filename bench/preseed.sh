#!/usr/bin/env bash
# Fills an IdentityHost SQLite database with ROWS token rows (default 1,000,000), for the flat-cost benchmark
# (issue 5: "with 1,000,000 token rows already in the database, throughput within 10 % of an empty database").
#
#   bench/preseed.sh DATABASE [ROWS]
#
# The rows look like a busy server's: families of four tokens (a spent and a live refresh token, each with its access
# token) under ROWS/4 authorizations of the demo client `postman` and user `alice`; refresh rows carry a ~1.9 KB
# payload and a unique reference id, like real ones. All are recent and unexpired, so the cleanup job keeps them.
# Needs the sqlite3 command-line shell (Debian: apt-get install -y sqlite3). Run it against a database the server has
# already migrated and seeded (run.sh does this while the server runs: SQLite's WAL lets both write).
# It ends with a checkpoint that empties the WAL.
set -euo pipefail
db=${1:?usage: bench/preseed.sh DATABASE [ROWS]}
rows=${2:-1000000}
command -v sqlite3 >/dev/null || { echo "preseed needs the sqlite3 shell (apt-get install -y sqlite3)" >&2; exit 1; }
families=$(( (rows + 3) / 4 ))

app=$(sqlite3 "$db" "SELECT Id FROM OpenIddictApplications WHERE ClientId = 'postman'")
user=$(sqlite3 "$db" "SELECT Id FROM AspNetUsers WHERE UserName = 'alice'")
[ -n "$app" ] && [ -n "$user" ] || { echo "preseed: the demo client 'postman' and user 'alice' must exist in $db" >&2; exit 1; }

sqlite3 "$db" <<SQL
PRAGMA busy_timeout = 60000;
BEGIN;
WITH RECURSIVE n(i) AS (SELECT 0 UNION ALL SELECT i + 1 FROM n WHERE i < $families - 1)
INSERT INTO OpenIddictAuthorizations (Id, ApplicationId, ConcurrencyToken, CreationDate, Properties, Scopes, Status, Subject, Type)
SELECT printf('preseed-a-%08d', i), '$app', lower(hex(randomblob(16))), strftime('%Y-%m-%d %H:%M:%f', 'now', '-1 hours'),
       NULL, '["offline_access","api"]', 'valid', '$user', 'ad-hoc'
FROM n;
WITH RECURSIVE n(i) AS (SELECT 0 UNION ALL SELECT i + 1 FROM n WHERE i < $rows - 1)
INSERT INTO OpenIddictTokens (Id, ApplicationId, AuthorizationId, ConcurrencyToken, CreationDate, ExpirationDate, Payload,
                              Properties, RedemptionDate, ReferenceId, Status, Subject, Type)
SELECT printf('preseed-t-%08d', i), '$app', printf('preseed-a-%08d', i / 4), lower(hex(randomblob(16))),
       strftime('%Y-%m-%d %H:%M:%f', 'now', '-1 hours'), strftime('%Y-%m-%d %H:%M:%f', 'now', '+10 days'),
       CASE WHEN i % 2 = 1 THEN hex(randomblob(950)) END, NULL,
       CASE WHEN i % 4 = 1 THEN strftime('%Y-%m-%d %H:%M:%f', 'now', '-30 minutes') END,
       CASE WHEN i % 2 = 1 THEN hex(randomblob(32)) END,
       CASE WHEN i % 4 = 1 THEN 'redeemed' ELSE 'valid' END, '$user',
       CASE WHEN i % 2 = 1 THEN 'urn:ietf:params:oauth:token-type:refresh_token' ELSE 'urn:ietf:params:oauth:token-type:access_token' END
FROM n;
COMMIT;
-- Copy the 4.5 GB of WAL into the database and empty the WAL, as a server that has run for a while would have it.
-- Left behind, every page read of the server would search the index of a WAL of a million frames until its own
-- checkpoints caught up, at a time that varies from run to run.
PRAGMA wal_checkpoint(TRUNCATE);
SQL
echo "preseed: $(sqlite3 "$db" 'SELECT count(*) FROM OpenIddictTokens') token rows, $(sqlite3 "$db" 'SELECT count(*) FROM OpenIddictAuthorizations') authorizations in $db ($(du -ch "$db"* | tail -1 | cut -f1) with its WAL)"
