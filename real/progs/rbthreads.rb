# N worker threads (default 4) post results to the main thread through pipes, until SIGTERM.
#
# Worker k writes "k j" lines (j = 1, 2, 3, ...) to its own IO.pipe. The main thread IO.select()s on the
# read ends and appends a numbered record "n k j" to out.txt for every line, and "n tick" every 10 ms
# (the select's timeout). Ruby's VM itself holds eventfds (its timer thread and signal
# wake-up). On SIGTERM (a trap) the workers stop, close their write ends, the main thread reads the pipes
# to EOF and writes done.txt: "done <records>" then per worker "worker k <posted> <taken>".

nworkers = (ARGV[0] || 4).to_i
stop = false
Signal.trap("TERM") { stop = true }

pipes = Array.new(nworkers) { IO.pipe }
posted = Array.new(nworkers, 0)
workers = Array.new(nworkers) do |k|
  Thread.new do
    w = pipes[k][1]
    until stop
      posted[k] += 1
      w.syswrite("#{k} #{posted[k]}\n")
      sleep(0.003 * (k + 1))
    end
    w.close
  end
end

taken = Array.new(nworkers, 0)
bufs = Array.new(nworkers) { +"" }
readers = pipes.map(&:first)
open_readers = readers.dup
n = 0
out = File.open("out.txt", "a")
take = lambda do |io|
  k = readers.index(io)
  begin
    bufs[k] << io.read_nonblock(4096)
  rescue IO::WaitReadable
    return
  rescue EOFError
    open_readers.delete(io)
    return
  end
  while (i = bufs[k].index("\n"))
    line = bufs[k].slice!(0..i)
    kk, j = line.split.map(&:to_i)
    raise "worker #{k}'s pipe carried #{line.inspect}" unless kk == k
    n += 1
    taken[k] += 1
    out.write("#{n} #{k} #{j}\n")
  end
  out.flush
end

next_tick = Process.clock_gettime(Process::CLOCK_MONOTONIC) + 0.01
until stop
  ready = IO.select(open_readers, nil, nil, [next_tick - Process.clock_gettime(Process::CLOCK_MONOTONIC), 0].max)
  ready[0].each { |io| take.call(io) } if ready
  now = Process.clock_gettime(Process::CLOCK_MONOTONIC)
  next if now < next_tick
  next_tick = now + 0.01
  n += 1
  out.write("#{n} tick\n")
  out.flush
end
workers.each(&:join)
take.call(open_readers.first) until open_readers.empty?
out.close
File.write("done.txt", "done #{n}\n" + (0...nworkers).map { |k| "worker #{k} #{posted[k]} #{taken[k]}\n" }.join)
