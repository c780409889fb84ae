FROM python:3.11-slim
WORKDIR /srv/palm
# the CJK font that draws 一次性告知单 as a picture (保存为图片, for WeChat)
RUN apt-get update && apt-get install -y --no-install-recommends fonts-wqy-microhei \
    && rm -rf /var/lib/apt/lists/*
COPY requirements.txt .
RUN pip install --no-cache-dir -r requirements.txt
COPY . .
RUN useradd --system palm && mkdir -p /srv/palm/uploads && chown palm /srv/palm/uploads
USER palm
ENV FLASK_APP=wsgi.py
