# syntax=docker/dockerfile:1
# GPU image: the gateway on vLLM's official CUDA image, same vLLM minor as scripts/install.sh (0.32.x).
#   docker build -t lfm2-gateway:gpu .
#   docker run --gpus all -p 8000:8000 -v hf-cache:/cache/huggingface lfm2-gateway:gpu
# No model is downloaded at build time: weights land in the Hugging Face cache volume on first start.
ARG VLLM_VERSION=0.32.0
FROM vllm/vllm-openai:v${VLLM_VERSION}

# The base image's entrypoint is `vllm serve`; ours replaces it below.
ENV PYTHONUNBUFFERED=1 \
    PIP_NO_CACHE_DIR=1 \
    PIP_DISABLE_PIP_VERSION_CHECK=1 \
    HF_HOME=/cache/huggingface \
    LFM2_HOST=0.0.0.0 \
    LFM2_PORT=8000

WORKDIR /app
COPY pyproject.toml README.md ./
COPY server ./server
COPY tool_parser ./tool_parser

# Install the gateway next to the image's vLLM without touching it: every package already in the
# image is pinned to its installed version (constraints), so pip only adds what is missing.
# PIP_BREAK_SYSTEM_PACKAGES: the image's Python is the system one; it is ours to change.
RUN python3 -m pip list --format=freeze > /tmp/image-packages.txt \
    && PIP_BREAK_SYSTEM_PACKAGES=1 python3 -m pip install --no-cache-dir -c /tmp/image-packages.txt . \
    && rm /tmp/image-packages.txt \
    && python3 -c "import server.cli, vllm; print('vllm', vllm.__version__)"

# Non-root; the cache directory exists and is ours, so a fresh named volume mounted there inherits it.
RUN groupadd --system --gid 10001 lfm2 \
    && useradd --system --uid 10001 --gid 10001 --create-home --home-dir /home/lfm2 --shell /usr/sbin/nologin lfm2 \
    && mkdir -p /cache/huggingface \
    && chown -R lfm2:lfm2 /cache /app
USER 10001:10001
VOLUME ["/cache/huggingface"]

EXPOSE 8000
# Readiness, not just liveness: 503 until the engine has loaded (a first start downloads the weights,
# hence the long start period). Python, not curl, so the check needs nothing beyond the image.
HEALTHCHECK --interval=15s --timeout=5s --start-period=900s --retries=3 \
    CMD ["python3", "-c", "import os, urllib.request; urllib.request.urlopen('http://127.0.0.1:%s/ready' % os.environ.get('LFM2_PORT', '8000'), timeout=4)"]

ENTRYPOINT ["lfm2-serve"]
CMD []
