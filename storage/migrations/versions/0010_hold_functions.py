"""Opening and closing a hold as one call each on Postgres: two functions holding the
statements ``core.ports.holds.StepwiseHolds`` runs one by one (a round trip each).

Why functions and not one data-modifying CTE: in a CTE the sub-statements run in no
fixed order, and two requests of one key took the account's and the key's row locks in
opposite orders (a deadlock at 20 concurrent requests). Inside a function the statements
run in the written order (the account's row, then the key's, as every other writer),
each with its own checks, as separate statements would. SQLite has no such functions;
there the repositories run the steps.

A change to the tables these write (ledger, accounts, api_keys, hold_owners,
usage_events) needs a migration that replaces the functions too.

Revision ID: 0010_hold_functions
Revises: 0009_access
Create Date: 2026-12-04
"""

from __future__ import annotations

from alembic import op

revision: str = "0010_hold_functions"
down_revision: str | None = "0009_access"
branch_labels: str | None = None
depends_on: str | None = None

OPEN_HOLD = """
CREATE OR REPLACE FUNCTION switchboard_open_hold(
    p_account BIGINT, p_request VARCHAR, p_cost BIGINT, p_overdraft BIGINT,
    p_upfront BIGINT, p_least BIGINT, p_key BIGINT, p_now TIMESTAMPTZ,
    p_worker VARCHAR, p_platform VARCHAR, p_chat VARCHAR, p_question TEXT,
    OUT reserved BIGINT, OUT key_refused BOOLEAN
) LANGUAGE plpgsql AS $$
BEGIN
    key_refused := false;
    -- min(cost, balance + overdraft), computed from the row as it was before the UPDATE
    UPDATE accounts
    SET balance = balance - LEAST(p_cost, balance + p_overdraft),
        last_hold = LEAST(p_cost, balance + p_overdraft)
    WHERE id = p_account AND balance > 0 AND balance >= p_upfront
      AND balance + p_overdraft >= p_least AND banned IS false
    RETURNING last_hold INTO reserved;
    IF reserved IS NULL THEN
        reserved := 0;  -- refused: nothing written
        RETURN;
    END IF;
    IF p_key IS NOT NULL THEN
        UPDATE api_keys SET spent = spent + p_cost
        WHERE id = p_key AND revoked IS false AND (budget IS NULL OR spent + p_cost <= budget);
        IF NOT FOUND THEN
            -- Undone here, so the call is whole on its own (a /v1 admission runs it
            -- outside a transaction): the account keeps its credits.
            UPDATE accounts SET balance = balance + reserved WHERE id = p_account;
            key_refused := true;
            reserved := 0;
            RETURN;
        END IF;
    END IF;
    INSERT INTO ledger (account_id, amount, kind, request_id, created_at, api_key_id)
    VALUES (p_account, -reserved, 'hold', p_request, p_now, p_key)
    ON CONFLICT (request_id, kind) DO NOTHING;
    IF p_worker IS NOT NULL THEN
        INSERT INTO hold_owners
            (request_id, worker_id, platform, chat_id, created_at, account_id, question,
             produced, retry_offered)
        VALUES (p_request, p_worker, p_platform, p_chat, p_now, p_account, p_question, 0, false)
        ON CONFLICT (request_id) DO NOTHING;
    END IF;
END
$$
"""

CLOSE_HOLD = """
CREATE OR REPLACE FUNCTION switchboard_close_hold(
    p_account BIGINT, p_request VARCHAR, p_refund BIGINT, p_now TIMESTAMPTZ,
    p_key BIGINT, p_key_refund BIGINT,
    p_platform VARCHAR, p_feature VARCHAR, p_model VARCHAR, p_prompt_tokens BIGINT,
    p_completion_tokens BIGINT, p_credits BIGINT, p_latency_ms BIGINT, p_outcome VARCHAR,
    p_created_at TIMESTAMPTZ
) RETURNS BOOLEAN LANGUAGE plpgsql AS $$
BEGIN
    -- The settle row is unique per request id: a second settlement writes nothing.
    INSERT INTO ledger (account_id, amount, kind, request_id, created_at)
    VALUES (p_account, p_refund, 'settle', p_request, p_now)
    ON CONFLICT (request_id, kind) DO NOTHING;
    IF NOT FOUND THEN
        RETURN false;
    END IF;
    IF p_refund <> 0 THEN
        UPDATE accounts SET balance = balance + p_refund WHERE id = p_account;
    END IF;
    IF p_key IS NOT NULL THEN
        -- No revoked filter: a key revoked mid-request still gets its use recorded.
        UPDATE api_keys
        SET spent = spent - p_key_refund, requests = requests + 1, last_used_at = p_now
        WHERE id = p_key;
    END IF;
    INSERT INTO usage_events
        (request_id, account_id, platform, feature, model, prompt_tokens,
         completion_tokens, credits, latency_ms, outcome, created_at)
    VALUES (p_request, p_account, p_platform, p_feature, p_model, p_prompt_tokens,
            p_completion_tokens, p_credits, p_latency_ms, p_outcome, p_created_at);
    RETURN true;
END
$$
"""


def upgrade() -> None:
    if op.get_bind().dialect.name != "postgresql":
        return
    op.execute(OPEN_HOLD)
    op.execute(CLOSE_HOLD)


def downgrade() -> None:
    if op.get_bind().dialect.name != "postgresql":
        return
    op.execute("DROP FUNCTION IF EXISTS switchboard_close_hold")
    op.execute("DROP FUNCTION IF EXISTS switchboard_open_hold")
