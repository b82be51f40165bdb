"""A contact center that web chats reach (shared/demo_web_chat.py, which `parley demo-web-chat` also uses)."""

from shared.demo_web_chat import PASSWORD, Agent, WebChatCenter, send_to_flex_flow, set_activity, set_up_web_chat_center

__all__ = ["PASSWORD", "Agent", "WebChatCenter", "send_to_flex_flow", "set_activity", "set_up_web_chat_center"]
