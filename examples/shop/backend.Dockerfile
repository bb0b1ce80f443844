# The shop's backend API (and its migration command), from the same static binary.
FROM scratch
COPY slipway-demo-app-static /app
ENV DEMO_ANY_ADDR=1
ENTRYPOINT ["/app"]
CMD ["backend"]
