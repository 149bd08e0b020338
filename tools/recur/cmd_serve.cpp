// `recur serve`: a trained model over HTTP/1.1 (cpp-httplib, Debian's libcpp-httplib-dev). The
// requests and their validation are recur::serve::Service's (src/serve/); this file moves bytes:
// routes, status codes, limits, the worker pool, streaming, and a clean stop on Ctrl-C or SIGTERM.
#include <httplib.h>

#include <atomic>
#include <chrono>
#include <cstdio>
#include <condition_variable>
#include <deque>
#include <memory>
#include <mutex>
#include <thread>

#include "commands.h"
#include "interrupt.h"
#include "recur/core/error.h"
#include "recur/core/gemm.h"
#include "recur/serve/service.h"

namespace recur::cli {
namespace {

struct ServeArgs {
  std::string model, host = "127.0.0.1";
  int port = 8080, threads = 0, connections = 128;
  serve::Limits limits;
};

// At most n requests compute at once; the others are let in in the order they arrived, each slot
// handed straight to the oldest waiter (a plain semaphore lets some waiters starve, which shows as
// seconds of tail latency; waking every waiter at each release costs throughput).
class Slots {
 public:
  explicit Slots(int n) : free_(n) {}
  void acquire() {
    std::unique_lock<std::mutex> lock(m_);
    if (free_ > 0 && waiting_.empty()) {
      --free_;
      return;
    }
    Waiter me;
    waiting_.push_back(&me);
    me.cv.wait(lock, [&] { return me.granted; });
  }
  void release() {
    std::lock_guard<std::mutex> lock(m_);
    if (waiting_.empty()) {
      ++free_;
      return;
    }
    Waiter* next = waiting_.front();
    waiting_.pop_front();
    next->granted = true;  // the slot passes on without becoming free
    next->cv.notify_one();
  }

 private:
  struct Waiter {
    std::condition_variable cv;
    bool granted = false;
  };
  std::mutex m_;
  std::deque<Waiter*> waiting_;
  int free_;
};

void reply(httplib::Response& res, int status, const std::string& body) {
  res.status = status;
  res.set_content(body + "\n", "application/json");
}

void run(const ServeArgs& a) {
  const std::atomic<bool>* stop = stop_on_interrupt();  // before any thread starts
  const std::shared_ptr<const serve::Service> svc = serve::Service::load(a.model, a.limits);
  // httplib gives each open connection a pool thread for as long as it stays open (keep-alive), so
  // the pool is sized for connections; the model work is limited to `threads` requests at once
  // (one core each), the others wait for a slot in arrival order.
  const int threads = a.threads > 0 ? a.threads : int(std::max(1u, std::thread::hardware_concurrency()));
  const int workers = std::max(a.connections, threads);
  auto slots = std::make_shared<Slots>(threads);
  httplib::Server server;
  server.new_task_queue = [workers] { return new httplib::ThreadPool(size_t(workers)); };
  server.set_payload_max_length(a.limits.max_body);
  // SO_REUSEADDR only: httplib's default adds SO_REUSEPORT, with which a second server would
  // silently share a port that is already serving. TCP_NODELAY (inherited by the accepted
  // sockets): a reply goes out as headers and body, and Nagle's algorithm would hold the body
  // until the client's delayed ACK, 40 ms a request on a kept-alive connection.
  server.set_socket_options([](socket_t sock) {
    int yes = 1;
    setsockopt(sock, SOL_SOCKET, SO_REUSEADDR, &yes, sizeof yes);
    setsockopt(sock, IPPROTO_TCP, TCP_NODELAY, &yes, sizeof yes);
  });
  server.set_read_timeout(10, 0);
  server.set_keep_alive_max_count(1000);  // a kept-alive client keeps its thread, not requeued
  server.set_write_timeout(30, 0);

  server.Get("/healthz", [svc](const httplib::Request&, httplib::Response& res) {
    reply(res, 200, "{\"status\": \"ok\", \"task\": \"" + svc->task() + "\"}");
  });
  server.Get("/v1/model", [svc](const httplib::Request&, httplib::Response& res) {
    reply(res, 200, svc->describe());
  });
  server.Post("/v1/predict", [svc, slots](const httplib::Request& req, httplib::Response& res) {
    set_num_threads(1);  // one request, one core: the slots are the parallelism
    if (!svc->wants_stream(req.body)) {
      slots->acquire();
      const serve::Reply r = svc->predict(req.body);
      slots->release();
      reply(res, r.status, r.body);
      return;
    }
    const serve::Reply r = svc->check(req.body);
    if (r.status != 200) {
      reply(res, r.status, r.body);
      return;
    }
    auto body = std::make_shared<std::string>(req.body);
    res.set_chunked_content_provider(
        "text/plain; charset=utf-8", [svc, slots, body](size_t, httplib::DataSink& sink) {
          set_num_threads(1);
          slots->acquire();
          svc->stream(*body, [&sink](const std::string& chunk) {
            return sink.is_writable() && sink.write(chunk.data(), chunk.size());
          });
          slots->release();
          sink.done();
          return true;
        });
  });
  for (const char* path : {"/healthz", "/v1/model"})
    server.Post(path, [path](const httplib::Request&, httplib::Response& res) {
      res.set_header("Allow", "GET");
      reply(res, 405, serve::error_body(std::string(path) + " takes GET"));
    });
  server.Get("/v1/predict", [](const httplib::Request&, httplib::Response& res) {
    res.set_header("Allow", "POST");
    reply(res, 405, serve::error_body("/v1/predict takes POST with a JSON body"));
  });
  // Everything else httplib answers by itself (404, 413, 400): give it a JSON body too.
  const size_t max_body = a.limits.max_body;
  server.set_error_handler([max_body](const httplib::Request& req, httplib::Response& res) {
    if (!res.body.empty()) return;
    std::string what = res.status == 404 ? "no such endpoint: " + req.method + " " + req.path +
                                               " (GET /healthz, GET /v1/model, POST /v1/predict)"
                       : res.status == 413
                           ? "the request is larger than " + std::to_string(max_body) +
                                 " bytes (--max-body)"
                           : "HTTP error " + std::to_string(res.status);
    reply(res, res.status, serve::error_body(what));
  });
  server.set_exception_handler(
      [](const httplib::Request&, httplib::Response& res, std::exception_ptr ep) {
        std::string what = "internal error";
        try {
          if (ep) std::rethrow_exception(ep);
        } catch (const std::exception& e) {
          what = e.what();
        } catch (...) {
        }
        reply(res, 500, serve::error_body(what));
      });

  const int port = a.port == 0 ? server.bind_to_any_port(a.host) : a.port;
  RECUR_CHECK(port > 0, "cannot listen on " << a.host << " (no free port)");
  if (a.port != 0)
    RECUR_CHECK(server.bind_to_port(a.host, a.port),
                "cannot listen on " << a.host << ":" << a.port
                                    << " (in use, or not an address of this machine?)");
  std::printf("recur serve: %s (task %s) on http://%s:%d, %d requests computed at once, %d "
              "connections\n",
              a.model.c_str(), svc->task().c_str(), a.host.c_str(), port, threads, workers);
  std::fflush(stdout);
  std::atomic<bool> done{false};
  std::thread watcher([&] {  // Ctrl-C or SIGTERM: finish the requests in flight, then return
    while (!done.load()) {
      if (stop->load()) {
        server.stop();
        return;
      }
      std::this_thread::sleep_for(std::chrono::milliseconds(100));
    }
  });
  const bool ok = server.listen_after_bind();
  done.store(true);
  watcher.join();
  RECUR_CHECK(ok || stop->load(), "the server on " << a.host << ":" << port << " stopped unexpectedly");
  std::printf("recur serve: stopped\n");
}

}  // namespace

void add_serve(CLI::App& app, Action& action) {
  auto a = std::make_shared<ServeArgs>();
  CLI::App* c = app.add_subcommand(
      "serve",
      "Serve a trained model over HTTP/1.1: GET /healthz, GET /v1/model, POST /v1/predict (JSON). "
      "Language models generate (optionally streamed), classifiers classify, taggers tag, "
      "seq2seq models translate, forecasters forecast. "
      "Ctrl-C or SIGTERM stops it.");
  c->add_option("--model", a->model,
                "Model file (train-lm, train-classifier, train-tagger, train-seq2seq or "
                "train-forecaster)")
      ->required()
      ->check(CLI::ExistingFile);
  c->add_option("--host", a->host, "Address to listen on (loopback by default)")->capture_default_str();
  c->add_option("--port", a->port, "Port (0: any free one, printed at start)")
      ->capture_default_str()
      ->check(CLI::Range(0, 65535));
  c->add_option("--threads", a->threads, "Requests computed at once, one core each (0: the cores)")
      ->capture_default_str()
      ->check(NonNegative);
  c->add_option("--connections", a->connections,
                "Connections served at once (each kept-alive connection holds a thread)")
      ->capture_default_str()
      ->check(Positive);
  c->add_option("--max-body", a->limits.max_body, "Largest request body in bytes")
      ->capture_default_str()
      ->check(Positive);
  c->add_option("--max-length", a->limits.max_length, "Most tokens one generation may ask for")
      ->capture_default_str()
      ->check(Positive);
  c->callback([a, &action] { action = [a] { run(*a); }; });
}

}  // namespace recur::cli
