# Copies Redoc's bundle (IN) to OUT with its one reference to another host, the Redocly logo in
# the sidebar footer, replaced by an empty data: URL: the image then fails to load (Redoc
# hides it) without a request leaving the page or breaking its Content-Security-Policy.
file(READ "${IN}" bundle)
set(logo "https://cdn.redoc.ly/redoc/logo-mini.svg")
string(FIND "${bundle}" "${logo}" at)
if(at EQUAL -1)
  message(FATAL_ERROR "${IN}: the Redocly logo URL is not where it was; check the bundle for other hosts")
endif()
string(REPLACE "${logo}" "data:," bundle "${bundle}")
file(WRITE "${OUT}" "${bundle}")
