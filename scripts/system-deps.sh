#!/usr/bin/env bash
# System packages the full test run uses: Debian's Chromium + ChromeDriver for
# the browser test, a CJK font for the PDF-reading test.  Installed only when
# missing and when we may (root with apt-get); otherwise those tests skip and
# say why.
set -u
need=()
[ -x /usr/bin/chromium ] || need+=(chromium)
[ -x /usr/bin/chromedriver ] || need+=(chromium-driver)
fc-list 2>/dev/null | grep -qiE "wqy|noto.*cjk" || [ -e /usr/share/fonts/truetype/wqy/wqy-microhei.ttc ] || need+=(fonts-wqy-microhei)
[ ${#need[@]} -eq 0 ] && exit 0
if [ "$(id -u)" = 0 ] && command -v apt-get >/dev/null 2>&1; then
  echo "installing system packages: ${need[*]}"
  (apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends "${need[@]}") >/tmp/policyqa-apt.log 2>&1 \
    || echo "warning: could not install ${need[*]} (see /tmp/policyqa-apt.log); the tests that need them will skip"
else
  echo "note: missing ${need[*]}; install them to run the browser and CJK-PDF tests"
fi
exit 0
