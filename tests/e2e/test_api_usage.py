"""GET /users/me/usage: the caller's own spending as JSON, the same numbers as /usage."""

from __future__ import annotations

from tests.e2e.api_harness import running_api


async def test_own_usage_as_json(sqlite_url: str) -> None:
    async with running_api(sqlite_url, allowances="user:weekly:150", allowance_mode="add") as api:
        _, token = await api.user("spender")
        _, other = await api.user("bystander")
        charges = []
        for text in ("one?", "two?"):
            api.llm.script(reply="An answer of some words")
            status, body = await api.call("POST", "/ask", token, json={"text": text})
            assert status == 200, body
            charges.append(body["charge_micro"])
        status, usage = await api.call("GET", "/users/me/usage", token)
        assert status == 200, usage
        status, nothing = await api.call("GET", "/users/me/usage", other)
        assert status == 200
        status, _ = await api.call("GET", "/users/me/usage")
        assert status == 401
    for window in ("today", "week", "month"):
        assert usage[window]["credits_micro"] == sum(charges)
        assert usage[window]["requests"] == 2
        (line,) = usage[window]["lines"]
        assert (line["feature"], line["model"], line["requests"]) == ("chat", "gpt-4o-mini", 2)
        assert nothing[window]["credits_micro"] == 0 and nothing[window]["lines"] == []
    # Welcome 100 plus this week's 150 (add), less what the two answers cost.
    assert usage["balance_micro"] == 250_000_000 - sum(charges)
    assert usage["next_allowance"]["period"] == "weekly"
    assert usage["next_allowance"]["amount_micro"] == 150_000_000
    assert usage["next_allowance"]["at"].endswith("T00:00:00+00:00")
    assert sum(day["credits_micro"] for day in usage["days"]) == sum(charges)


async def test_ask_says_when_the_balance_shortened_the_answer(sqlite_url: str) -> None:
    async with running_api(sqlite_url, welcome_credits="1", max_overdraft="0.5") as api:
        _, token = await api.user("shortie")
        api.llm.script(reply=" ".join(["word"] * 300))
        status, body = await api.call("POST", "/ask", token, json={"text": "everything?"})
        assert status == 200, body
        assert body["shortened"] is True and body["outcome"] == "ok"
        status, balance = await api.call("GET", "/balance", token)
    assert -500_000 <= balance["balance_micro"] < 0  # never below -MAX_OVERDRAFT
    (sent,) = [r.body["max_tokens"] for r in api.llm.requests_to("/chat/completions")]
    assert body["usage"]["completion_tokens"] == sent < 1024
