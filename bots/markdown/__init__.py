"""The model's Markdown, parsed once by a CommonMark parser and walked for each platform.

markdown-it-py decides what is emphasis, code or a link (``parser``), so nesting such as
``**bold *and italic***`` comes out right and markers that do not pair stay literal text;
``renderer.Renderer`` lays the blocks out the same way everywhere and asks a subclass per
platform how each piece looks (``bots/telegram/markdown.py`` for Telegram HTML,
``bots/slack/mrkdwn.py`` for Slack mrkdwn).
"""

from bots.markdown.parser import language_of, parse
from bots.markdown.renderer import RULE, Renderer

__all__ = ["RULE", "Renderer", "language_of", "parse"]
