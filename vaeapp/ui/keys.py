"""Names of every ``st.session_state`` key the app uses, in one place."""

Z = "z"  # list[float]: the current latent point, all dimensions
SLIDER_PREFIX = "z_slider_"  # + dimension index: one slider per latent dimension
ACTIVE_MODEL = "active_model"  # str: path of the model this session explores
SENT_TOKENS = "sent_tokens"  # set[str]: models whose browser assets were sent
PLOTLY_SENT = "plotly_sent"  # bool: plotly.js was sent to this browser
MAP_DIMS = "map_dims"  # tuple[int, int]: latent dimensions shown on the map
GRID_N = "grid_n"
GRID_Q = "grid_q"
GRID_SPACING = "grid_spacing"
GRID_SHOW_EXTENT = "grid_show_extent"
MESSAGE = "message"  # str: a warning to show once (e.g. a rejected latent value)
RETRAIN_WATCH = "retrain_watch"  # bool: this session follows a training run
