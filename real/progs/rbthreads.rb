# N worker threads (default 4) post results to the main thread through eventfds, until SIGTERM.
#
# Ruby's stdlib has no eventfd: it is called through Fiddle (eventfd(0, EFD_NONBLOCK | EFD_CLOEXEC)) and
# wrapped in an IO. Worker k appends its results (1, 2, 3, ...) to its own list, then adds 1 to its
# eventfd. The main thread IO.select()s on the eventfds and, for each count read, takes that many results
# and appends a numbered record "n k j" to out.txt; every 10 ms (the select's timeout) it appends
# "n tick". Ruby's VM holds eventfds of its own too (timer thread, signal wake-up). On SIGTERM (a trap)
# the workers stop, the main thread drains the eventfds once more and writes done.txt: "done <records>"
# then per worker "worker k <posted> <taken> <left>" (left: results whose count the eventfd lost).
require "fiddle"

EFD_NONBLOCK = 0o4000
EFD_CLOEXEC = 0o2000000
EVENTFD = Fiddle::Function.new(Fiddle::Handle::DEFAULT["eventfd"], [Fiddle::TYPE_INT, Fiddle::TYPE_INT],
                               Fiddle::TYPE_INT)

def eventfd
  fd = EVENTFD.call(0, EFD_NONBLOCK | EFD_CLOEXEC)
  raise "eventfd: #{Fiddle.last_error}" if fd.negative?
  IO.for_fd(fd, autoclose: true)
end

nworkers = (ARGV[0] || 4).to_i
stop = false
Signal.trap("TERM") { stop = true }

efds = Array.new(nworkers) { eventfd }
results = Array.new(nworkers) { [] }
locks = Array.new(nworkers) { Mutex.new }
posted = Array.new(nworkers, 0)
taken = Array.new(nworkers, 0)
workers = Array.new(nworkers) do |k|
  Thread.new do
    until stop
      posted[k] += 1
      locks[k].synchronize { results[k] << posted[k] }
      efds[k].syswrite([1].pack("Q"))
      sleep(0.003 * (k + 1))
    end
  end
end

n = 0
out = File.open("out.txt", "a")
# one read of worker k's eventfd: one record per result it counts; false when there was nothing
take = lambda do |k|
  begin
    count = efds[k].read_nonblock(8).unpack1("Q")
  rescue IO::WaitReadable
    return false
  end
  got = locks[k].synchronize { results[k].shift(count) }
  raise "worker #{k}: eventfd counted #{count}, only #{got.size} results" unless got.size == count
  got.each do |j|
    n += 1
    out.write("#{n} #{k} #{j}\n")
  end
  taken[k] += count
  out.flush
  true
end

next_tick = Process.clock_gettime(Process::CLOCK_MONOTONIC) + 0.01
until stop
  ready = IO.select(efds, nil, nil, [next_tick - Process.clock_gettime(Process::CLOCK_MONOTONIC), 0].max)
  ready[0].each { |io| take.call(efds.index(io)) } if ready
  now = Process.clock_gettime(Process::CLOCK_MONOTONIC)
  next if now < next_tick
  next_tick = now + 0.01
  n += 1
  out.write("#{n} tick\n")
  out.flush
end
workers.each(&:join)
nworkers.times { |k| nil while take.call(k) }
out.close
File.write("done.txt", "done #{n}\n" +
           (0...nworkers).map { |k| "worker #{k} #{posted[k]} #{taken[k]} #{results[k].size}\n" }.join)
