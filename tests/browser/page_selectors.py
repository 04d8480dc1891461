"""What the browser tests wait for: the page's main parts (see
vaeapp/web/latent_map.js, z_sliders.js, grid_picture.js) and the page's size
and load timeout. A module of its own, not conftest: test modules import it,
and ``conftest`` names another module in each test folder."""

PAGE_LOAD_TIMEOUT_MS = 120_000
VIEWPORT = {"width": 1400, "height": 1000}

MAP_DRAWN = ".vae-explorer[data-drawn] .vae-gl-canvas"  # the WebGL map, drawn
DIGIT_IMG = ".vae-z-sliders canvas.vae-digit[data-z]"  # the explorer's decoded digit
GRID_IMG = "canvas.vae-grid[data-by]"
LIVE_READY = '.vae-explorer[data-decoder="ready"]'  # live decoding can start
