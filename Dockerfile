FROM python:3.11-slim
WORKDIR /srv/palm
COPY requirements.txt .
RUN pip install --no-cache-dir -r requirements.txt
COPY . .
RUN useradd --system palm && mkdir -p /srv/palm/uploads && chown palm /srv/palm/uploads
USER palm
ENV FLASK_APP=wsgi.py
