-- Server-to-server apps (issue #4): an app reads the rosters of its org's subtree with a
-- client_credentials token only when an administrator allowed it.

ALTER TABLE oidc_clients ADD COLUMN roster_read INTEGER NOT NULL DEFAULT 0;
