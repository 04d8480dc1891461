# The vaeapp image: the package installed from this checkout on a slim Python,
# run as an unprivileged user, models on a volume. One Dockerfile, two roles:
#
#   docker build -t vaeapp:page .                             # the page only
#   docker build --build-arg EXTRAS=train -t vaeapp:train .   # + Keras/TensorFlow
#
# vaeapp:page is the base install (no TensorFlow, no JAX): exploring, export,
# evaluate, refine. vaeapp:train adds what `vaeapp train` and the page's
# Retrain form need; EXTRAS=jax gives the JAX backend for data-parallel runs.
# compose.yaml runs N page replicas behind nginx; deploy/k8s/ runs the page
# and the training Job on Kubernetes (docs/deployment.md).
FROM python:3.11-slim

# Which extras of the package to install: "" (the page), "train", "jax",
# "train,jax".
ARG EXTRAS=""
ARG UID=10001

# VAEAPP_HOME: the models folder (trained and uploaded models), a volume.
# VAEAPP_PAGE_DIR: where `vaeapp serve` writes the page's script, its
# Streamlit settings and the browser's cacheable files (static/); replicas
# behind one proxy share it (compose.yaml). Streamlit's own settings come as
# STREAMLIT_* variables: listen on every interface of the container, port 8501.
ENV PYTHONDONTWRITEBYTECODE=1 \
    PYTHONUNBUFFERED=1 \
    PIP_NO_CACHE_DIR=1 \
    PIP_DISABLE_PIP_VERSION_CHECK=1 \
    VAEAPP_HOME=/data/models \
    VAEAPP_PAGE_DIR=/data/page \
    STREAMLIT_SERVER_ADDRESS=0.0.0.0 \
    STREAMLIT_SERVER_PORT=8501 \
    STREAMLIT_SERVER_HEADLESS=true \
    STREAMLIT_BROWSER_GATHER_USAGE_STATS=false \
    TF_CPP_MIN_LOG_LEVEL=2

RUN useradd --create-home --uid "${UID}" --user-group vaeapp

# Only what the wheel is built from, and requirements.txt (.dockerignore keeps
# the rest out). Its pins constrain the install (extras stripped: pip takes
# none in a constraint), so the image holds the versions the tests ran on.
WORKDIR /src
COPY . .
RUN sed 's/\[[^]]*\]//' requirements.txt > /tmp/constraints.txt \
    && pip install --constraint /tmp/constraints.txt ".${EXTRAS:+[${EXTRAS}]}" \
    && rm -rf /src /tmp/constraints.txt \
    && mkdir -p /data/models /data/page \
    && chown -R vaeapp:vaeapp /data

USER vaeapp
WORKDIR /home/vaeapp
VOLUME ["/data/models"]
EXPOSE 8501

# Streamlit's health endpoint, with Python (the slim image has no curl): exit
# 0 when it answers 200. tests/unit/test_container.py runs this line against a
# live server.
HEALTHCHECK --interval=30s --timeout=5s --start-period=60s --retries=3 \
    CMD ["python", "-c", "import os, sys, urllib.request; port = os.environ.get('STREAMLIT_SERVER_PORT', '8501'); sys.exit(urllib.request.urlopen(f'http://127.0.0.1:{port}/_stcore/health', timeout=4).status != 200)"]

ENTRYPOINT ["vaeapp"]
CMD ["serve"]
