"""Names of every ``st.session_state`` key the app uses, in one place."""

Z = "z"  # list[float]: the current latent point, all dimensions
SLIDER_PREFIX = "z_slider_"  # + dimension index: one slider per latent dimension
ACTIVE_MODEL = "active_model"  # str: path of the model this session explores
SENT_TOKENS = "sent_tokens"  # set[str]: models whose browser assets were sent
PLOTLY_SENT = "plotly_sent"  # bool: plotly.js was sent to this browser
MAP_DIMS = "map_dims"  # tuple[int, int]: latent dimensions shown on the map
MAP_VIEW = "map_view"  # str: what the map shows, one of vaeapp.projection.VIEWS
GRID_N = "grid_n"
GRID_Q = "grid_q"
GRID_SPACING = "grid_spacing"
GRID_SHOW_EXTENT = "grid_show_extent"
MESSAGE = "message"  # str: a warning to show once (e.g. a rejected latent value)
RETRAIN_WATCH = "retrain_watch"  # bool: this session follows a training run
SAVED_Z = "saved_z"  # list[float]: point A for interpolation
OVERLAY_PATH = "overlay_path"  # list[list[float]]: interpolation path on the map
OVERLAY_SAMPLES = "overlay_samples"  # list[list[float]]: prior samples on the map
SAMPLE_SEED = "sample_seed"  # int: bumped by each "Draw" of prior samples
RERUN_APP = "rerun_app"  # bool: a fragment's callback changed what the map shows
OWN_DIGIT = "own_digit"  # (784,) float array: the user's preprocessed digit
OWN_ERROR = "own_error"  # str: why the user's last picture was refused
INSPECT = "inspect_index"  # int: the test digit picked on the map, or absent
TOOLS_TAB = "tools_tab"  # str: the label of the open tool tab
RETRAIN_OPEN = "retrain_open"  # bool: the sidebar's Retrain expander is open
