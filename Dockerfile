# Builds sluice into a small image. cgo is on so that sqlmeta/pg uses the
# real Postgres parser (libpg_query) natively; a CGO_ENABLED=0 build works too
# and falls back to the same parser compiled to WebAssembly (slower first parse).
FROM golang:1.26-bookworm AS build
WORKDIR /src
COPY go.mod go.sum ./
RUN go mod download
COPY . .
RUN CGO_ENABLED=1 go build -trimpath -ldflags "-s -w" -o /sluice ./cmd/sluice

FROM gcr.io/distroless/base-debian12
COPY --from=build /sluice /sluice
COPY examples /etc/sluice/examples
EXPOSE 9901
ENTRYPOINT ["/sluice"]
CMD ["-c", "/etc/sluice/sluice.yaml"]
