-- The ledger (D1 binding LEDGER): one row per session created and per transition, for listing and
-- reconciliation. Written by the session's Durable Object (see edge-worker/src/ledger.rs), which
-- also creates this table when it is missing; keep the two in step.
CREATE TABLE IF NOT EXISTS ledger (seq INTEGER PRIMARY KEY AUTOINCREMENT, row_key TEXT NOT NULL UNIQUE, at_ms INTEGER NOT NULL, session_id TEXT NOT NULL, attempt TEXT, kind TEXT NOT NULL, status TEXT NOT NULL, amount INTEGER, detail TEXT);
CREATE INDEX IF NOT EXISTS ledger_session ON ledger (session_id, seq);
