#!/bin/sh
# preStop: a real app would leave its load balancer here. We just say so.
echo "draining: no new requests will be routed here"
