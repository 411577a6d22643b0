# The sluice image: one static binary, a default config, no shell, non-root.
#   docker build -t sluice . && docker run -p 9901:9901 sluice
# Mount your own config over /etc/sluice/sluice.yaml (docker-compose.yml
# does); the default is examples/compose.yaml, the compose stack's config.
#
# Release build: the Postgres parser is the cgo libpg_query (-tags
# pgquery_cgo: half the parse cost of the default WebAssembly one and no
# ~4 s, ~260 MB start on the first statement, see sqlmeta/pg), linked
# statically (netgo and osusergo keep glibc's NSS out) so that it runs on
# distroless/static.
FROM golang:1.26-bookworm AS build
WORKDIR /src
COPY go.mod go.sum ./
RUN go mod download
COPY . .
RUN CGO_ENABLED=1 go build -trimpath -tags pgquery_cgo,netgo,osusergo \
      -ldflags "-s -w -linkmode external -extldflags -static" -o /sluice ./cmd/sluice

FROM gcr.io/distroless/static-debian12:nonroot
COPY --from=build /sluice /sluice
COPY examples/compose.yaml /etc/sluice/sluice.yaml
COPY examples /etc/sluice/examples
USER nonroot:nonroot
EXPOSE 9901
ENTRYPOINT ["/sluice"]
CMD ["-c", "/etc/sluice/sluice.yaml"]
