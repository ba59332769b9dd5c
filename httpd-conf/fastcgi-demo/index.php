<?php
// ci/demo fastcgi: the page php-fpm serves through httpd -> SCTP -> fcgi-bridge.
header('Content-Type: text/plain; charset=utf-8');
header('X-Served-By: php-fpm via fcgi-bridge');
echo "Hello from PHP ", PHP_VERSION, " (", php_sapi_name(), ")\n";
echo "request:   ", $_SERVER['REQUEST_METHOD'], " ", $_SERVER['REQUEST_URI'] ?? '', "\n";
echo "script:    ", $_SERVER['SCRIPT_FILENAME'] ?? '', "\n";
echo "gateway:   ", $_SERVER['GATEWAY_INTERFACE'] ?? '-', ", server ", $_SERVER['SERVER_SOFTWARE'] ?? '-', "\n";
echo "query:     ", $_SERVER['QUERY_STRING'] ?? '', "\n";
echo "pid:       ", getmypid(), "\n";
echo "sha1(q):   ", sha1($_GET['q'] ?? ''), "\n";
