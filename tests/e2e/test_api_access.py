"""Access control over HTTP: in closed mode registering needs an invitation (and a refused
registration leaves no account); admins manage the mode, the rules and invitations; a
block refuses the next request of a signed-in user at once."""

from __future__ import annotations

from tests.e2e.api_harness import PASSWORD, running_api
from tests.harness import caller


async def test_closed_registration_invitations_and_rules(sqlite_url):
    async with running_api(sqlite_url, access="closed", bot_admins="api:root") as api:
        body = {"username": "stranger", "password": PASSWORD}
        status, error = await api.call("POST", "/auth/register", json=body)
        assert status == 403 and error["error"]["code"] == "private_bot"
        async with api.app.uow() as tx:
            assert await tx.credentials.get("stranger") is None
            assert await tx.directory.search(None, 0, 10) == ([], 0)

        _, root = await api.user("root")  # a bootstrap admin gets in
        status, invite = await api.call("POST", "/access/invites", root, json={"uses": 1})
        assert status == 201 and invite["uses"] == 1
        with_code = {**body, "invite": invite["code"].lower()}
        status, created = await api.call("POST", "/auth/register", json=with_code)
        assert status == 201, created
        again = {"username": "second", "password": PASSWORD, "invite": invite["code"]}
        status, error = await api.call("POST", "/auth/register", json=again)
        assert status == 404 and error["error"]["code"] == "invite_invalid"

        token = (await api.login("stranger"))["access_token"]
        status, _ = await api.call("GET", "/balance", token)
        assert status == 200
        rule = {"subject": "api:stranger", "verdict": "block"}
        status, state = await api.call("POST", "/access/rules", root, json=rule)
        assert status == 200 and state == {"mode": "closed", "rules": [rule]}
        status, error = await api.call("GET", "/balance", token)
        assert status == 403 and error["error"]["code"] == "access_blocked"
        status, _ = await api.call("POST", "/access/rules", token, json=rule)
        assert status == 403

        status, state = await api.call(
            "DELETE", "/access/rules", root, params={"subject": "api:stranger"}
        )
        assert status == 200 and state["rules"] == []
        status, state = await api.call("PUT", "/access/mode", root, json={"mode": "open"})
        assert status == 200 and state["mode"] == "open"
        status, _ = await api.call("POST", "/auth/register", json=again)
        assert status == 201


async def test_broadcast_and_opt_out_over_http(sqlite_url):
    async with running_api(sqlite_url, bot_admins="api:root") as api:
        _, root = await api.user("root")
        alice_id, alice = await api.user("alice")
        telegram_person = await api.app.core.accounts.resolve(caller("77"))
        status, _ = await api.call("POST", "/broadcasts", alice, json={"text": "hi"})
        assert status == 403
        body = {"text": "Maintenance tonight", "audience": "telegram"}
        status, draft = await api.call("POST", "/broadcasts", root, json=body)
        # API logins cannot be written to privately: only the Telegram person is reached
        assert status == 200 and draft["people"] == 1 and draft["audience"] == "telegram"
        status, started = await api.call("POST", f"/broadcasts/{draft['id']}/send", root)
        assert status == 200 and started["people"] == 1
        status, again = await api.call("POST", f"/broadcasts/{draft['id']}/send", root)
        assert status == 404
        status, report = await api.call("GET", f"/broadcasts/{draft['id']}", root)
        assert status == 200 and report == {
            "id": draft["id"],
            "state": "sending",
            "deliveries": {"pending": 1},
        }
        status, _ = await api.call("PUT", "/users/me/announcements", alice, json={"muted": True})
        assert status == 204
        async with api.app.uow() as tx:
            muted = await tx.access.muted([telegram_person.id, alice_id])
        assert muted == {alice_id}
