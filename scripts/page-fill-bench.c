/* Page-fill microbenchmark behind docs/performance.md "Issue 16, first round":
 * how fast a new 512 MiB file under /work fills by mode: 0 = MADV_POPULATE_WRITE then memcpy,
 * 1 = memcpy through the mapping (a fault per page), 2 = pwrite 64 KiB blocks, 3 = ftruncate +
 * pwrite, 4 = memcpy into the cached file of mode 2, 5 N = N files of 512 MiB one after another,
 * each MADV_POPULATE_WRITE 1 MiB then copied into (the broker's warm-up and append), MB/s per
 * file: run it plainly and inside a memory cgroup (scripts/lib-bench.sh `MEMCG`) to compare
 * fresh memory with a recycled page cache. 6 W R = the broker's warm-up of 256 KiB steps ahead of
 * 1 KiB copies: W 0 = MADV_POPULATE_WRITE, 1 = pwrite zeros then populate, 2 = none (faults on
 * the copy); R 1 = the mapping advised MADV_RANDOM (no readahead on faults). 7 MIB = pwrite MIB
 * MiB of zeros into one file, MB/s per 512 MiB: memory freed recently, then memory the host took
 * back. Build: gcc -O2 -o /tmp/pagefill
 * scripts/page-fill-bench.c; run: /tmp/pagefill MODE; rm -f /work/zb-* afterwards. */
#define _GNU_SOURCE
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <fcntl.h>
#include <unistd.h>
#include <sys/mman.h>
#include <time.h>
static double now(){struct timespec t;clock_gettime(CLOCK_MONOTONIC,&t);return t.tv_sec+t.tv_nsec/1e9;}
#define SZ (512L<<20)
int main(int argc,char**argv){
  char msg[1024]; memset(msg,'x',sizeof msg);
  int mode=atoi(argv[1]);
  char path[64]; sprintf(path,"/work/zb-%d",mode); unlink(path);
  int fd=open(path,O_RDWR|O_CREAT,0644);
  double t0=now();
  if(mode==0||mode==1){
    ftruncate(fd,SZ);
    char*p=mmap(0,SZ,PROT_READ|PROT_WRITE,MAP_SHARED,fd,0);
    if(mode==0){ madvise(p,SZ,23); }
    double t1=now();
    for(long o=0;o<SZ;o+=1024) memcpy(p+o,msg,1024);
    double t2=now();
    printf("mode %d populate %.3fs copy %.3fs total %.0f MB/s\n",mode,t1-t0,t2-t1,SZ/1e6/(t2-t0));
  } else if(mode==2){
    static char buf[1<<16]; memset(buf,'y',sizeof buf);
    for(long o=0;o<SZ;o+=sizeof buf) pwrite(fd,buf,sizeof buf,o);
    double t2=now();
    printf("mode 2 pwrite 64K: %.3fs %.0f MB/s\n",t2-t0,SZ/1e6/(t2-t0));
  } else if(mode==3){
    ftruncate(fd,SZ);
    static char buf[1<<16]; memset(buf,'y',sizeof buf);
    for(long o=0;o<SZ;o+=sizeof buf) pwrite(fd,buf,sizeof buf,o);
    double t2=now();
    printf("mode 3 ftruncate+pwrite 64K: %.3fs %.0f MB/s\n",t2-t0,SZ/1e6/(t2-t0));
  } else if(mode==5){
    int n=argc>2?atoi(argv[2]):4;
    for(int s=0;s<n;s++){
      char p5[64]; sprintf(p5,"/work/zb-5-%d",s); unlink(p5);
      int f5=open(p5,O_RDWR|O_CREAT,0644); ftruncate(f5,SZ);
      char*p=mmap(0,SZ,PROT_READ|PROT_WRITE,MAP_SHARED,f5,0);
      double a=now();
      for(long o=0;o<SZ;o+=1L<<20){ madvise(p+o,1L<<20,23); for(long q=o;q<o+(1L<<20);q+=1024) memcpy(p+q,msg,1024); }
      printf("mode 5 file %d: %.0f MB/s\n",s,SZ/1e6/(now()-a)); fflush(stdout);
      munmap(p,SZ); close(f5);
    }
    for(int s=0;s<n;s++){ char p5[64]; sprintf(p5,"/work/zb-5-%d",s); unlink(p5); }
  } else if(mode==4){
    /* reuse: file already exists with data, in page cache */
    char path2[64]; sprintf(path2,"/work/zb-2"); int fd2=open(path2,O_RDWR);
    char*p=mmap(0,SZ,PROT_READ|PROT_WRITE,MAP_SHARED,fd2,0);
    double t1=now();
    for(long o=0;o<SZ;o+=1024) memcpy(p+o,msg,1024);
    double t2=now();
    printf("mode 4 reuse cached file copy %.3fs %.0f MB/s\n",t2-t1,SZ/1e6/(t2-t1));
  }
  else if(mode==6){
    int w=atoi(argv[2]), rnd=atoi(argv[3]);
    static char z[256<<10];
    ftruncate(fd,SZ);
    char*p=mmap(0,SZ,PROT_READ|PROT_WRITE,MAP_SHARED,fd,0);
    if(rnd) madvise(p,SZ,MADV_RANDOM);
    double a=now(), warm=0;
    for(long o=0;o<SZ;o+=sizeof z){
      double t=now();
      if(w==1) pwrite(fd,z,sizeof z,o);
      if(w<=1) madvise(p+o,sizeof z,23);
      warm+=now()-t;
      for(long q=o;q<o+(long)sizeof z;q+=1024) memcpy(p+q,msg,1024);
    }
    printf("mode 6 warm %d random %d: %.0f MB/s (warm-up %.3fs of %.3fs)\n",w,rnd,SZ/1e6/(now()-a),warm,now()-a);
  } else if(mode==7){
    long total=atol(argv[2])<<20;
    static char z[256<<10];
    double a=now();
    for(long o=0;o<total;o+=sizeof z){
      pwrite(fd,z,sizeof z,o);
      if((o+(long)sizeof z)%(512L<<20)==0){ printf("mode 7 %ld MiB: %.0f MB/s\n",(o+(long)sizeof z)>>20,(512L<<20)/1e6/(now()-a)); fflush(stdout); a=now(); }
    }
  }
  unlink(path);
  return 0;
}
