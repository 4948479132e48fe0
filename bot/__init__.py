"""The bot: Discord slash commands answered over HTTP interactions, gated and audited."""
