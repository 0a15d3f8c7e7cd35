# The RingOut dialer as a static binary on a distroless base, running as a non-root user.
#   docker build -t ringout .
#   docker run -p 8080:8080 -e ADDR=0.0.0.0:8080 ringout          # demo mode
# (CI does not build this image: the machines that run CI have no Docker engine.)
FROM golang:1.26 AS build
WORKDIR /src
COPY go.mod go.sum ./
RUN go mod download
COPY . .
# Pure Go (modernc.org/sqlite, pgx): no C library needed, so the binary is static.
RUN CGO_ENABLED=0 go build -trimpath -ldflags='-s -w' -o /ringout .

FROM gcr.io/distroless/static-debian12:nonroot
COPY --from=build /ringout /ringout
# SQLite mode keeps its file and generated secret here; mount a volume (cluster mode: none needed).
ENV DATA_DIR=/data ADDR=0.0.0.0:8080
VOLUME /data
EXPOSE 8080
USER nonroot:nonroot
ENTRYPOINT ["/ringout"]
