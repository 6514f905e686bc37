#!/usr/bin/env python3
"""moto's server handling one request at a time.

moto applies a DynamoDB transaction without a lock, so two requests served by concurrent
threads can interleave inside it; DynamoDB itself never does. Serving requests one by one gives
the tests the isolation the real service guarantees. Usage: moto_serial.py HOST PORT
"""
import os
import sys

from werkzeug.serving import run_simple
from moto.moto_server.werkzeug_app import DomainDispatcherApplication, MotoRequestHandler, create_backend_app

host, port = sys.argv[1], int(sys.argv[2])
os.environ.setdefault("MOTO_PORT", str(port))
app = DomainDispatcherApplication(create_backend_app)
run_simple(host, port, app, threaded=False, request_handler=MotoRequestHandler)
