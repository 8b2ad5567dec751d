# A stand-in for the official Swift image, for machines that cannot pull it: Debian 12 with the
# packages the Swift toolchain needs and this machine's toolchain copied to /opt/swift.
# Built by Docker/local-bases.sh, which mounts the toolchain at /toolchain for the copy.
ARG BASE
FROM ${BASE}
RUN apt-get update \
 && DEBIAN_FRONTEND=noninteractive apt-get install -y --no-install-recommends \
      binutils ca-certificates git gnupg2 libc6-dev libcurl4-openssl-dev libedit2 libgcc-12-dev \
      libncurses-dev libpython3-dev libsqlite3-0 libstdc++-12-dev libxml2-dev libz3-dev pkg-config \
      tzdata unzip zlib1g-dev \
 && rm -rf /var/lib/apt/lists/*
RUN cp -a /toolchain /opt/swift && /opt/swift/usr/bin/swift --version
ENV PATH=/opt/swift/usr/bin:/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin
