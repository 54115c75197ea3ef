# The DocPortal portal (Streamlit), for ECS Fargate behind an HTTPS load balancer.
#   docker build -t docportal-portal .
#   docker run --env-file portal.env -p 8501:8501 docportal-portal
# portal.env is what `python -m devstack.deploy deploy > portal.env` prints;
# AWS credentials come from the task role (never bake them into the image).
# The image holds the portal and what it imports (common/) with the portal's
# requirements only: no moto, no extractor parsers (docs/DEPLOY.md has the sizes).
FROM python:3.12-slim

ENV PYTHONDONTWRITEBYTECODE=1 \
    PYTHONUNBUFFERED=1 \
    PIP_DISABLE_PIP_VERSION_CHECK=1 \
    PYTHONPATH=/app

WORKDIR /app

# Dependencies first: this layer is reused while only the code changes.
COPY requirements-portal.txt constraints.txt ./
RUN pip install --no-cache-dir -r requirements-portal.txt -c constraints.txt \
    && useradd --create-home --uid 10001 --shell /usr/sbin/nologin portal

COPY common ./common
COPY portal ./portal
COPY .streamlit ./.streamlit

USER portal
EXPOSE 8501

HEALTHCHECK --interval=30s --timeout=5s --start-period=30s --retries=3 \
    CMD ["python", "-c", "import urllib.request; urllib.request.urlopen('http://127.0.0.1:8501/_stcore/health', timeout=4)"]

CMD ["streamlit", "run", "portal/server.py", "--server.port", "8501", "--server.address", "0.0.0.0"]
