# The shop's frontend: the static demo app in its frontend role. FROM scratch, so building needs
# no network; the build context is CMake's bin directory, where the static binary is.
FROM scratch
COPY slipway-demo-app-static /app
ENV DEMO_ANY_ADDR=1
ENTRYPOINT ["/app", "frontend"]
