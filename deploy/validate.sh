#!/usr/bin/env bash
# Check the files in deploy/ with the tools themselves, on this machine:
#   nginx -t       the site and its locations, inside a throwaway wrapper config, with a
#                  self-signed certificate and this checkout's paths;
#   systemd-analyze verify   the units, with this checkout's paths;
#   gunicorn --check-config  deploy/gunicorn.conf.py, loading wsgi:app.
# Usage: deploy/validate.sh (from anywhere; needs nginx, openssl, systemd-analyze, .venv).
set -euo pipefail
root="$(cd "$(dirname "$0")/.." && pwd)"
venv="$root/.venv"
work="$(mktemp -d)"
trap 'rm -rf "$work"' EXIT

admin_static="$("$venv/bin/python" -c \
  'import flask_admin, os; print(os.path.join(os.path.dirname(flask_admin.__file__), "static"))')"
local_paths() {
  sed -e "s#/srv/order-panel/venv/lib/python3.11/site-packages/flask_admin/static/#$admin_static/#" \
      -e "s#/srv/order-panel/venv#$venv#g" -e "s#/srv/order-panel/app#$root#g" \
      -e "s#/etc/nginx/snippets/order-panel-locations.conf#$work/order-panel-locations.conf#" \
      -e "s#/etc/letsencrypt/live/panel.example.com/#$work/#" \
      -e "s#/var/log/nginx/#$work/#" "$1"
}

echo "== nginx -t"
openssl req -x509 -newkey rsa:2048 -nodes -days 1 -subj /CN=panel.example.com \
  -keyout "$work/privkey.pem" -out "$work/fullchain.pem" 2>/dev/null
local_paths "$root/deploy/nginx/order-panel-locations.conf" > "$work/order-panel-locations.conf"
local_paths "$root/deploy/nginx/order-panel.conf" > "$work/order-panel.conf"
cat > "$work/nginx.conf" <<CONF
pid $work/nginx.pid;
events {}
http {
    include /etc/nginx/mime.types;
    client_body_temp_path $work/body;
    proxy_temp_path $work/proxy;
    include $work/order-panel.conf;
}
CONF
nginx -t -p "$work" -c "$work/nginx.conf" -e "$work/error.log"

echo "== systemd-analyze verify"
mkdir "$work/units"
for unit in "$root"/deploy/systemd/*.service "$root"/deploy/systemd/*.timer; do
  local_paths "$unit" > "$work/units/$(basename "$unit")"
done
# verify only warns (exit 0) about unknown keys and bad values: any output is a failure.
complaints="$(systemd-analyze verify "$work"/units/* 2>&1)" || true
if [ -n "$complaints" ]; then echo "$complaints" >&2; exit 1; fi

echo "== gunicorn --check-config"
(cd "$root" && PANEL_PROXY_HOPS=1 "$venv/bin/gunicorn" --check-config \
  --config deploy/gunicorn.conf.py wsgi:app)
echo "all deploy files check out"
