#!/bin/sh
# shared_dir.sh TOP: where ../shared is for the tree at TOP. Beside TOP (every
# developer's and CI's layout), or, for a clone made elsewhere (git clone .
# /tmp/x), beside the checkout it was cloned from. Prints TOP/../shared when
# neither exists, so that the capture tests, which then skip, name the place
# it looked first.
top=$1
if [ -d "$top/../shared" ]; then
	echo "$top/../shared"
	exit 0
fi
origin=$(git -C "$top" config --get remote.origin.url 2>/dev/null)
case $origin in
/*) [ -d "$origin/../shared" ] && { echo "$origin/../shared"; exit 0; } ;;
esac
echo "$top/../shared"
