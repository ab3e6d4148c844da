"""The admin console's access section without a browser: the mode, the allow/block rules
and invitations through the core's use cases, admins only (403 and no data for anyone
else), writes only from our own origin, refusals as messages in the person's language."""

from __future__ import annotations

from tests.e2e.api_harness import running_api
from tests.e2e.test_web_admin_http import get, jar_session, post, sign_in

BASE = "/web/api/admin/access"
WRITES = (
    ("/mode", {"mode": "closed"}),
    ("/rules", {"subject": "telegram:1", "verdict": "block"}),
    ("/rules/remove", {"subject": "telegram:1"}),
    ("/invites", {"uses": 2}),
)


async def test_only_admins_see_or_change_access(sqlite_url: str) -> None:
    async with running_api(sqlite_url, bot_admins="api:admin") as api:
        await api.user("alice")
        await api.register("admin")
        async with jar_session() as anonymous:
            assert (await get(anonymous, api, BASE))[0] == 401
            headers = {"Accept-Language": "ru"}
            _, session = await api.call("GET", "/web/api/admin/session", headers=headers)
            assert session["words"]["access"] == "Доступ"
            assert session["words"]["create_invite"] == "Создать приглашение"
        async with jar_session() as alice:
            await sign_in(alice, api, "alice")
            status, body = await get(alice, api, BASE)
            assert status == 403 and set(body) == {"error"}
            assert body["error"]["code"] == "forbidden"
            for path, change in WRITES:
                status, body = await post(alice, api, BASE + path, change)
                assert status == 403 and set(body) == {"error"}, path
        async with jar_session() as admin:
            await sign_in(admin, api, "admin")
            status, state = await get(admin, api, BASE)
            # Alice's attempts changed nothing.
            assert status == 200
            assert (state["mode"], state["rules"], state["invites"]) == ("open", [], [])


async def test_admin_sets_the_mode_rules_and_invitations(sqlite_url: str) -> None:
    async with running_api(sqlite_url, bot_admins="api:admin") as api:
        await api.register("admin")
        async with jar_session() as admin:
            await sign_in(admin, api, "admin")
            status, body = await post(
                admin, api, BASE + "/mode", {"mode": "closed"}, origin="https://evil.example"
            )
            assert status == 403 and body["error"]["code"] == "cross_site"
            assert (await get(admin, api, BASE))[1]["mode"] == "open"

            status, state = await post(admin, api, BASE + "/mode", {"mode": "closed"})
            assert status == 200 and state["mode"] == "closed" and state["notice"]
            assert (await get(admin, api, BASE))[1]["mode"] == "closed"

            rule = {"subject": "telegram:123", "verdict": "allow"}
            _, state = await post(admin, api, BASE + "/rules", rule)
            _, state = await post(
                admin, api, BASE + "/rules", {"subject": "#7", "verdict": "block"}
            )
            assert state["rules"] == [
                {"subject": "#7", "verdict": "block"},
                {"subject": "telegram:123", "verdict": "allow"},
            ]
            _, state = await post(admin, api, BASE + "/rules/remove", {"subject": "#7"})
            assert state["rules"] == [{"subject": "telegram:123", "verdict": "allow"}]
            # Removing what is not there is a message, not a failure of the page.
            status, body = await post(admin, api, BASE + "/rules/remove", {"subject": "#7"})
            assert status == 200 and body["error"]["code"] == "not_found"
            status, body = await post(admin, api, BASE + "/rules", {**rule, "verdict": "maybe"})
            assert status == 400

            _, state = await post(admin, api, BASE + "/invites", {"uses": 3})
            code = state["code"]
            assert state["invites"] == [{"code": code, "uses_left": 3}]
            assert f"/join {code}" in state["notice"]
            status, _ = await post(admin, api, BASE + "/invites", {"uses": 0})
            assert status == 400
