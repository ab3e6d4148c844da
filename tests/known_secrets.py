"""Every secret the tests hand to the code. The session fixture in conftest.py fails the
run if any of them appears in any log record of the whole suite."""

TEST_API_KEY = "sk-test-0123456789abcdefSECRET"
CONSOLE_API_KEY = "sk-console-test-key"
TELEGRAM_TOKEN = "123456789:AAF-test-telegram-token-SECRET"
TELEGRAM_WEBHOOK_SECRET = "tg-webhook-secret-SECRET"
JWT_SECRET = "jwt-secret-for-tests-0123456789-SECRET"
DISCORD_TOKEN = "MTIzNDU2Nzg5MDEyMzQ1Njc4.discord-test-token-SECRET"

ALL = [TEST_API_KEY, CONSOLE_API_KEY, TELEGRAM_TOKEN, TELEGRAM_WEBHOOK_SECRET, JWT_SECRET]
ALL.append(DISCORD_TOKEN)

# Slack (issue 5)
SLACK_BOT_TOKEN = "xoxb-0000-fake-slack-bot-token-SECRET"
SLACK_SIGNING_SECRET = "fake-slack-signing-secret-SECRET"
ALL += [SLACK_BOT_TOKEN, SLACK_SIGNING_SECRET]
