"""The service desk without a browser (#18): handoff store and expiry, staff accounts, rate limit, server routes."""

from __future__ import annotations

import asyncio
import datetime as dt
import sqlite3

import pytest

from bot.errors import ConfigError
from bot.store.handoff import ALPHABET, HandoffStore, Turn, normalize_code, shown_code
from bot.web.desk import hash_password, load_accounts, password_check, verify_password
from bot.web.page import accept_language, handoff_html
from bot.web.ratelimit import RateLimiter, RateLimitMiddleware

TURN = Turn("كم أسترد؟", "ar", {"answer": "نحو 90 يوان", "language": "ar", "card_ids": ["refund-how-much"]},
            ("سؤال سابق",))


class Clock:
    def __init__(self) -> None:
        self.now = dt.datetime(2026, 12, 7, 4, 0, tzinfo=dt.UTC)

    def __call__(self) -> dt.datetime:
        return self.now


def test_handoff_round_trip_code_shape_and_what_is_stored(tmp_path):
    store = HandoffStore(tmp_path / "h.sqlite3")
    made = store.create([TURN, TURN])
    assert len(made.code) == 8 and set(made.code) <= set(ALPHABET)
    opened = store.open(shown_code(made.code).lower())  # as typed at the window: dash, lower case
    assert opened is not None and opened.turns == (TURN, TURN)
    assert opened.expires_at - opened.created_at == dt.timedelta(hours=24)
    with sqlite3.connect(tmp_path / "h.sqlite3") as db:  # nothing about the visitor beyond the conversation
        columns = [row[1] for row in db.execute("PRAGMA table_info(handoff)")]
    assert columns == ["code", "created_at", "expires_at", "turns"]
    assert store.open("") is None and store.open("ZZZZ-ZZZZ") is None and store.open("x" * 10_000) is None


def test_expired_code_is_refused_and_deleted(tmp_path):
    clock = Clock()
    store = HandoffStore(tmp_path / "h.sqlite3", dt.timedelta(hours=24), now=clock)
    old = store.create([TURN])
    clock.now += dt.timedelta(hours=23, minutes=59)
    assert store.open(old.code) is not None
    fresh = store.create([TURN])
    clock.now += dt.timedelta(minutes=1)
    assert store.open(old.code) is None and store.count() == 1  # gone from the database, not only hidden
    assert store.open(fresh.code) is not None
    clock.now += dt.timedelta(days=2)
    assert store.purge() == 1 and store.count() == 0


def test_handoff_keeps_the_last_turns_and_refuses_none(tmp_path):
    store = HandoffStore(tmp_path / "h.sqlite3")
    many = [Turn(f"q{i}", "en", {"answer": "a"}) for i in range(50)]
    made = store.create(many)
    assert [t.question for t in made.turns] == [f"q{i}" for i in range(30, 50)]
    with pytest.raises(ValueError):
        store.create([])


def test_normalize_code():
    assert normalize_code(" abcd-efgh ") == "ABCDEFGH" == normalize_code("ABCD EFGH")


def test_handoff_html_in_the_visitor_language_with_a_qr_code():
    out = handoff_html("ABCD2345", 24, "ar")
    assert "ABCD-2345" in out and "<svg" in out and 'dir="rtl"' in out and "24" in out and "عند نافذة الخدمة" in out


def test_passwords_are_scrypt_hashed_and_checked():
    stored = hash_password("correct horse")
    assert stored.startswith("scrypt$") and "correct" not in stored
    assert verify_password("correct horse", stored) and not verify_password("wrong", stored)
    assert not verify_password("x", "garbage") and not verify_password("x", "md5$1$2$3$4$5")
    check = password_check({"wang": stored})
    assert check("wang", "correct horse") and not check("wang", "nope") and not check("li", "correct horse")


def test_accounts_file(tmp_path):
    path = tmp_path / "users.txt"
    path.write_text(f"# staff\n\nwang:{hash_password('pw-12345678')}\n", encoding="utf-8")
    assert list(load_accounts(path)) == ["wang"]
    path.write_text("wang:plaintext\n", encoding="utf-8")
    with pytest.raises(ConfigError, match=r"users\.txt:1"):
        load_accounts(path)
    with pytest.raises(ConfigError, match="cannot read"):
        load_accounts(tmp_path / "missing.txt")


def test_accept_language():
    assert accept_language("ar-EG,ar;q=0.9,en;q=0.8") == "ar"
    assert accept_language("zh-TW,zh;q=0.9") == "zh-Hant" and accept_language("zh-CN") == "zh-Hans"
    assert accept_language("xx, de;q=0.5, fr;q=0.7") == "fr"
    assert accept_language("") is None and accept_language("tlh") is None


def test_rate_limiter_sliding_window():
    now = [0.0]
    limiter = RateLimiter(3, 60, clock=lambda: now[0])
    assert all(limiter.allow("a") for _ in range(3)) and not limiter.allow("a")
    assert limiter.allow("b")  # per client
    now[0] = 61
    assert limiter.allow("a")
    assert all(RateLimiter(0).allow("x") for _ in range(100))  # 0: off


def _call(app, method: str, path: str, lang: str = "en") -> tuple[int, bytes]:
    sent: list[dict] = []

    async def receive():
        return {"type": "http.request", "body": b""}

    async def send(msg):
        sent.append(msg)

    scope = {"type": "http", "method": method, "path": path, "client": ("10.0.0.7", 1),
             "headers": [(b"accept-language", lang.encode())]}
    asyncio.run(app(scope, receive, send))
    return sent[0]["status"], b"".join(m.get("body", b"") for m in sent[1:])


def test_rate_limit_middleware_counts_posts_per_client_and_entry_point():
    async def ok(scope, receive, send):
        await send({"type": "http.response.start", "status": 200, "headers": []})
        await send({"type": "http.response.body", "body": b"ok"})

    app = RateLimitMiddleware(ok, per_minute=2)
    assert [_call(app, "POST", "/gradio_api/queue/join")[0] for _ in range(2)] == [200, 200]
    status, body = _call(app, "POST", "/gradio_api/queue/join", "ar")
    assert status == 429 and "دقيقة" in body.decode()
    assert _call(app, "GET", "/")[0] == 200  # page loads and assets do not count
    assert _call(app, "POST", "/desk/gradio_api/queue/join")[0] == 200  # the desk has its own budget
    logins = [_call(app, "POST", "/desk/login")[0] for _ in range(11)]
    assert logins.count(429) == 1


def test_server_keeps_the_desk_behind_its_login(built, tmp_path):
    from fastapi.testclient import TestClient

    from bot.config import Settings
    from bot.serve.pipeline import Bot
    from bot.store.feedback import FeedbackStore
    from bot.web.desk import build_server

    users = tmp_path / "users.txt"
    users.write_text(f"wang:{hash_password('pw-12345678')}\n", encoding="utf-8")
    settings = Settings(**{**built.__dict__, "handoff_db": tmp_path / "h.sqlite3", "desk_users": str(users)})
    bot = Bot.load(settings)
    with TestClient(build_server(bot, FeedbackStore(tmp_path / "fb.sqlite3"), settings)) as visitor:
        assert visitor.get("/").status_code == 200
        assert visitor.get("/desk/config").status_code == 401  # the desk's app, API and queue need the login
        assert visitor.get("/desk/gradio_api/info").status_code == 401
        assert visitor.post("/desk/login", data={"username": "wang", "password": "wrong"}).status_code >= 400
        assert visitor.get("/config").status_code == 200  # the visitor page stays open
    with TestClient(build_server(bot, FeedbackStore(tmp_path / "fb.sqlite3"), settings)) as staff:
        assert staff.post("/desk/login", data={"username": "wang", "password": "pw-12345678"}).status_code == 200
        assert staff.get("/desk/config").status_code == 200
    closed = Settings(**{**built.__dict__, "handoff_db": tmp_path / "h.sqlite3"})
    with TestClient(build_server(Bot.load(closed), FeedbackStore(tmp_path / "fb.sqlite3"), closed)) as anyone:
        assert anyone.get("/desk/").status_code == 404 and anyone.get("/").status_code == 200


def test_deadlines_from_checker_json_become_ics_events():
    import icalendar

    from bot.web.ics import deadline_of, ics_bytes

    transit = {"checker": "transit", "values": {"deadline": "2026-12-14T00:00:00", "last_day": "2026-12-13"}}
    refund = {"checker": "refund", "values": {}, "findings": [
        {"key": "refund.days_ok", "params": {"days": 40, "max": 90, "last_day": "2027-03-01"}}]}
    assert deadline_of(None) is None and deadline_of({"checker": "transit", "values": {}}) is None
    assert deadline_of({"checker": "refund", "findings": [{"key": "refund.days_late", "params": {}}]}) is None
    event = icalendar.Calendar.from_ical(ics_bytes(deadline_of(transit), "ar")).walk("VEVENT")[0]
    end = event.decoded("dtend")
    assert end.isoformat() == "2026-12-14T00:00:00+08:00" and "240" in str(event["summary"])
    assert "12367" in str(event["description"]) and "الخط الساخن" in str(event["description"])
    event = icalendar.Calendar.from_ical(ics_bytes(deadline_of(refund), "de")).walk("VEVENT")[0]
    assert event.decoded("dtstart").isoformat() == "2027-03-01" and "90 Tagen" in str(event["summary"])


def test_desk_behind_a_trusted_proxy_header(built, tmp_path):
    from fastapi.testclient import TestClient

    from bot.config import Settings
    from bot.serve.pipeline import Bot
    from bot.store.feedback import FeedbackStore
    from bot.web.desk import build_server

    settings = Settings(**{**built.__dict__, "handoff_db": tmp_path / "h.sqlite3", "desk_user_header": "X-Staff-User"})
    with TestClient(build_server(Bot.load(settings), FeedbackStore(tmp_path / "fb.sqlite3"), settings)) as client:
        assert client.get("/desk/config").status_code == 401
        assert client.get("/desk/config", headers={"X-Staff-User": "li"}).status_code == 200
        assert client.get("/desk", follow_redirects=False).headers["location"] == "/desk/"


def test_a_bad_accounts_file_or_lifetime_stops_the_server_with_a_config_error(built, tmp_path):
    from bot.config import Settings
    from bot.serve.pipeline import Bot
    from bot.store.feedback import FeedbackStore
    from bot.web.desk import build_server

    users = tmp_path / "users.txt"
    users.write_text("wang:secret\n", encoding="utf-8")
    base = {**built.__dict__, "handoff_db": tmp_path / "h.sqlite3"}
    bot = Bot.load(built)
    with pytest.raises(ConfigError, match="add-user"):
        build_server(bot, FeedbackStore(tmp_path / "fb.sqlite3"), Settings(**{**base, "desk_users": str(users)}))
    with pytest.raises(ConfigError, match="BOT_HANDOFF_HOURS"):
        build_server(bot, FeedbackStore(tmp_path / "fb.sqlite3"), Settings(**{**base, "handoff_hours": 0.0}))


def test_page_handlers_record_hand_over_and_print(built, tmp_path):
    import re

    from bot.serve.pipeline import Bot
    from bot.store.feedback import FeedbackStore
    from bot.web.page import build_app

    handoffs = HandoffStore(tmp_path / "h.sqlite3")
    app = build_app(Bot.load(built), FeedbackStore(tmp_path / "fb.sqlite3"), handoffs)
    fns = {b.fn.__name__: b.fn for b in app.fns.values() if b.fn is not None}
    assert "Posez d&#x27;abord une question" in fns["show_to_staff"]([], "fr") and handoffs.count() == 0
    kept: list = []
    history: list = []
    for question in ("Can I use Alipay with a Visa card?", "and the fees?"):
        out = fns["visitor_turn"](question, [], history, "auto", "en")
        history, last = out[1], out[3]
        kept, _ = fns["record"](last, kept, "en")
    assert [t["question"] for t in kept] == ["Can I use Alipay with a Visa card?", "and the fees?"]
    assert kept[1]["history"] == ["Can I use Alipay with a Visa card?"]  # how the follow-up was read
    shown = fns["show_to_staff"](kept, "en")
    code = re.search(r'class="handoff-code" dir="ltr">([A-Z0-9-]+)<', shown).group(1)
    opened = handoffs.open(code)
    assert opened is not None and [t.question for t in opened.turns] == [t["question"] for t in kept]
    # A failed turn (a message instead of an answer) is not recorded.
    assert fns["record"]({}, kept, "en")[0] == kept
    slip = fns["print_slip"](kept)
    assert 'lang="en"' in slip and 'lang="zh-Hans"' in slip and "12345" in slip and "staff-meta" not in slip
