# Builds a static sluice binary into a small image.
FROM golang:1.26-bookworm AS build
WORKDIR /src
COPY go.mod go.sum ./
RUN go mod download
COPY . .
RUN CGO_ENABLED=0 go build -trimpath -ldflags "-s -w" -o /sluice ./cmd/sluice

FROM gcr.io/distroless/static-debian12
COPY --from=build /sluice /sluice
COPY examples /etc/sluice/examples
EXPOSE 9901
ENTRYPOINT ["/sluice"]
CMD ["-c", "/etc/sluice/sluice.yaml"]
